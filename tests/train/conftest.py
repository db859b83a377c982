"""Small in-memory data sets and models for the trainer tests.

The data sets are built here from numpy, not by nnstudio's loaders, so the
trainer tests depend only on the DatasetSplits contract.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from nnstudio.data.base import DatasetInfo, DatasetSplits, Split


def _split(x: np.ndarray, y: np.ndarray) -> Split:
    return Split(torch.from_numpy(x), torch.from_numpy(y))


def make_blobs(n_train: int = 240, n_val: int = 60, n_test: int = 60, n_classes: int = 2,
               seed: int = 0, spread: float = 0.6) -> DatasetSplits:
    """Gaussian blobs in 2-D, one per class, centres on a circle; labels 0..n_classes-1."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 2.0

    def draw(n: int) -> Split:
        y = rng.integers(0, n_classes, size=n)
        x = centres[y] + rng.normal(scale=spread, size=(n, 2))
        return _split(x.astype(np.float32), y.astype(np.int64))

    info = DatasetInfo("blobs", "classification", (2,), tuple(f"c{i}" for i in range(n_classes)),
                       kind="points2d")
    return DatasetSplits(info, draw(n_train), draw(n_val), draw(n_test))


def make_line(n_train: int = 200, n_val: int = 50, n_test: int = 50, seed: int = 0,
              val_sign: float = 1.0) -> DatasetSplits:
    """y = 3·x0 − 2·x1 + 0.5 + noise.  ``val_sign=-1`` flips the validation targets,
    so fitting the training split makes validation worse (for early stopping)."""
    rng = np.random.default_rng(seed)

    def draw(n: int, sign: float = 1.0) -> Split:
        x = rng.normal(size=(n, 2)).astype(np.float32)
        y = sign * (3 * x[:, 0] - 2 * x[:, 1] + 0.5) + rng.normal(scale=0.05, size=n)
        return _split(x, y.astype(np.float32).reshape(n, 1))

    info = DatasetInfo("line", "regression", (2,), n_targets=1)
    return DatasetSplits(info, draw(n_train), draw(n_val, val_sign), draw(n_test))


def mlp(n_in: int = 2, n_out: int = 2, hidden: int = 16, tail: nn.Module | None = None,
        seed: int = 0) -> nn.Sequential:
    """A 2-layer MLP with deterministic initial weights."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out)]
    if tail is not None:
        layers.append(tail)
    return nn.Sequential(*layers)


@pytest.fixture
def blobs() -> Callable[..., DatasetSplits]:
    return make_blobs


@pytest.fixture
def line() -> Callable[..., DatasetSplits]:
    return make_line


@pytest.fixture
def make_mlp() -> Callable[..., nn.Sequential]:
    return mlp
