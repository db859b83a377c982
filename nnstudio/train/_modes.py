"""Temporarily switch a model to evaluation mode and put every module back as it was."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``model`` in eval mode, then restore each module's own flag.

    ``model.train(previous)`` would not do: it sets every submodule alike and so
    would wake a BatchNorm that the person froze in eval mode for fine-tuning.
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training
