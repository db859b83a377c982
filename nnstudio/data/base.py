"""The contract every dataset in nnstudio meets.

A loader turns options into a :class:`DatasetSplits`: three tensor datasets
(train/validation/test) plus a :class:`DatasetInfo` that says what the task is,
the shape of one input example and the class names.  The trainer and the UI
only ever see this contract, never a loader's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch

Task = Literal["classification", "regression", "sequence", "generative"]


class DatasetError(ValueError):
    """A dataset could not be loaded; the message says what is wrong and where."""


class DatasetCancelled(DatasetError):
    """Loading stopped because the progress callback returned False."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: Task
    input_shape: tuple[int, ...]  # one example, without the batch dimension
    classes: tuple[str, ...] = ()  # empty for regression
    input_dtype: str = "float32"  # "int64" for token ids
    n_targets: int = 1  # regression targets per example
    feature_names: tuple[str, ...] = ()
    description: str = ""
    kind: Literal["points2d", "image", "table", "sequence", "text"] = "table"
    # Sensitive attributes kept out of the inputs (ethics stage): for each column,
    # its name and the value of each int64 code stored in Split.extra[name].
    sensitive: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.classes)


@dataclass
class Split:
    x: torch.Tensor
    y: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # e.g. sensitive attributes

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class DatasetSplits:
    info: DatasetInfo
    train: Split
    val: Split
    test: Split
    # statistics used to normalise inputs (computed on the training split only)
    norm_mean: torch.Tensor | None = None
    norm_std: torch.Tensor | None = None
    fingerprint: str = ""  # sha256 of the raw data, for reproducibility bundles
    # Regression targets are standardised with training statistics when normalising;
    # a prediction in original units is  y * target_std + target_mean.  None: raw targets.
    target_mean: torch.Tensor | None = None
    target_std: torch.Tensor | None = None
