"""Live pictures of what a recipe's model does: reconstructions, generated samples, a
forecast over the truth, generated text, attention maps.

A recipe that has something to show overrides :meth:`Recipe.preview
<nnstudio.train.recipes.Recipe.preview>` and returns :class:`Preview` objects; the
trainer calls it on a small fixed probe split (the first examples of the validation
split, else of the training split), in eval mode without gradients, at most
``max_rate_hz`` times a second and once at the end of the run — and only when a
callback listens (``on_preview``), so headless runs pay nothing.

A preview is plain data (numpy arrays, strings), safe to hand to another thread.  Its
``kind`` says how to draw it; the window has one renderer per kind:

* ``"images"``  — ``{"images": float [N,H,W] or [N,3,H,W] in 0..1, "columns": int,
  "captions": list[str] | None}``
* ``"points"``  — ``{"layers": [{"name", "xy": float [N,2], "classes": int [N] | None,
  "color": (r, g, b) | None, "size": float}], "x_label"?, "y_label"?}``
* ``"series"``  — ``{"x": float [T], "lines": [{"name", "y": float [T], "dashed": bool}],
  "x_label"?, "y_label"?}``
* ``"text"``    — ``{"text": str, "note": str?, "prompt": str?}`` (a prompt is shown
  dimmed before the text it started)
* ``"heatmap"`` — ``{"matrices": float [M,R,C], "titles": list[str], "row_labels"?,
  "col_labels"?, "note"?}``
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.pacing import PREVIEW_SHARE, Pacer

KINDS = ("images", "points", "series", "text", "heatmap")
PROBE_SIZE = 64


@dataclass
class Preview:
    """One picture of the model at work; ``title`` names its panel in the window."""

    kind: str
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    global_step: int = 0
    epoch: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown preview kind {self.kind!r}; known: {', '.join(KINDS)}")


class PreviewProbe:
    """Calls ``produce(model, probe, step, epoch)`` on a fixed probe split, rate-bounded.

    ``produce`` is the recipe's ``preview``; what it returns is stamped with the step
    and epoch.  The model's train/eval mode and the global RNG state are restored, so a
    preview never changes the course of training (dropout masks, shuffles).
    """

    def __init__(self, model: nn.Module, probe: Any,
                 produce: Callable[..., list[Preview]], max_rate_hz: float = 1.0) -> None:
        self.model = model
        self.probe = probe
        self.produce = produce
        self.pacer = Pacer(max_rate_hz, PREVIEW_SHARE)

    def maybe_capture(self, step: int, epoch: int, *, force: bool = False) -> list[Preview]:
        if not force and not self.pacer.due():
            return []
        started = self.pacer.clock()
        with torch.random.fork_rng(devices=_devices(self.probe)), eval_mode(self.model), \
                torch.no_grad():
            previews = list(self.produce(self.model, self.probe, step, epoch) or [])
        for p in previews:
            p.global_step, p.epoch = step, epoch
        self.pacer.ran(started)
        return previews


def _devices(probe: Any) -> list:
    x = getattr(probe, "x", None)
    if isinstance(x, torch.Tensor) and x.device.type == "cuda":
        return [x.device]
    return []


def to_numpy(t: torch.Tensor):
    """A CPU float32 numpy copy of ``t`` (detached): what previews carry."""
    return t.detach().to("cpu", torch.float32).numpy().copy()
