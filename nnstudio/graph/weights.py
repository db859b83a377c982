"""Weights files: a graph's state dict beside its project, loaded without running code.

A weights file is what ``torch.save(model.state_dict())`` writes: a flat mapping of
parameter names to tensors, under exactly the names that the generated module uses,
so the same file loads into the app's compiled model and into the exported source.
Loading goes through ``torch.load(weights_only=True)``: a file that would construct
anything but tensors and plain containers (a pickle that calls a function, say) is
refused before anything from it runs.

torch is imported inside the functions that need it, so that reading documents and
templates (the CLI's quick commands, the tests of the document) does not pay for it.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .document import Graph
from .names import class_name
from .project_file import atomic_write

if TYPE_CHECKING:
    from torch import Tensor

SUFFIX = ".pt"


class WeightsError(ValueError):
    """A weights file cannot be used; the message names the file and the reason."""


def weights_path(project_path: str | os.PathLike, graph: Graph) -> Path:
    """Where the weights of ``graph`` live: ``<stem>.<ClassName>.pt`` beside the project.

    ``mnist.nnstudio`` with a graph called "LeNet 5" gives ``mnist.LeNet5.pt``; the
    class name is the one the generated code uses, so the file says which class it fits.
    """
    project_path = Path(project_path)
    return project_path.with_name(f"{project_path.stem}.{class_name(graph.name)}{SUFFIX}")


def _check_flat(obj: object, label: str) -> dict[str, Tensor]:
    import torch

    if not isinstance(obj, Mapping):
        raise WeightsError(f"{label}: expected a mapping of parameter names to tensors "
                           f"(a state dict), found {type(obj).__name__}")
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsError(f"{label}: parameter names must be text, found {key!r}")
        if not isinstance(value, torch.Tensor):
            hint = (" (a checkpoint? save only the model's state_dict())"
                    if isinstance(value, Mapping) else "")
            raise WeightsError(f"{label}: entry {key[:80]!r} is {type(value).__name__}, "
                               f"not a tensor{hint}")
    return dict(obj)


def save_weights(path: str | os.PathLike, state_dict: Mapping[str, Tensor]) -> None:
    """Write ``state_dict`` to ``path`` atomically (the old file survives a crash).

    Tensors are saved detached and on the CPU, as a plain dict, so the file loads
    anywhere with :func:`load_weights`.
    """
    import torch

    path = Path(path)
    flat = _check_flat(state_dict, path.name)
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in flat.items()}, buffer)
    atomic_write(path, buffer.getvalue())


def load_weights(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a state dict saved by :func:`save_weights` (or ``torch.save``) onto the CPU.

    Raises :class:`WeightsError` if the file is missing, is not a PyTorch file, holds
    anything other than a flat mapping of names to tensors, or would run code.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        text = str(e)
        if "Weights only load failed" not in text:
            raise WeightsError(f"{path.name}: not a PyTorch weights file, or it is damaged"
                               ) from None
        # torch names the global it would have had to import, e.g. "posix.getpid"; with
        # none named, the bytes were no pickle at all (a random or foreign file)
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found is None:
            raise WeightsError(f"{path.name}: not a PyTorch weights file, or it is damaged"
                               ) from None
        raise WeightsError(f"{path.name}: refused: the file contains code or objects other "
                           f"than tensors ({found.group(1)})") from None
    except (RuntimeError, EOFError, KeyError, ValueError, TypeError, AttributeError,
            IndexError, OSError) as e:
        # torch.load reports a damaged or foreign file in many ways; all mean the same here
        detail = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise WeightsError(f"{path.name}: not a PyTorch weights file, or it is damaged "
                           f"({detail})") from None
    return _check_flat(obj, path.name)
