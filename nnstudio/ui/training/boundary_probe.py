"""The decision boundary of a 2-D classifier, computed on the trainer's thread.

:class:`BoundaryProbe` is a trainer callback: now and then (at most ``max_rate_hz``,
and never more than ~5 % of the training time) it runs the model on a fixed grid over
the data, turns the class probabilities into an RGBA picture and hands it to ``sink``.
The main thread only shows the finished picture: no model, no numpy work there.

No Qt here; the worker passes ``sink`` (its outbox) in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnstudio.train import Callback, RunInfo, StepInfo, TrainResult
from nnstudio.train._modes import eval_mode
from nnstudio.train.pacing import BOUNDARY_SHARE, Pacer

EDGE_RGBA = (235, 238, 242, 190)  # the line where the predicted class changes


@dataclass(frozen=True)
class BoundaryImage:
    """One picture of the classifier: ``rgba`` is (n, n, 4) uint8, row 0 at the bottom
    (y = extent[2]); extent is (x0, x1, y0, y1) in the data's original units."""

    rgba: np.ndarray
    extent: tuple[float, float, float, float]
    global_step: int
    epoch: int


def grid_extent(points: np.ndarray, pad: float = 0.08) -> tuple[float, float, float, float]:
    """The bounding box of (m, 2) ``points`` with ``pad`` of its size added on each side."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def probabilities(out: torch.Tensor, loss: str) -> torch.Tensor:
    """Class probabilities (N, C) from a classifier's output, as its loss reads it.

    One output unit is a logit (``bce``) or already a probability (``bce_prob``);
    several are logits (``cross_entropy``) or log-probabilities (``nll``).
    """
    out = out.float().reshape(out.shape[0], -1)
    if out.shape[1] == 1:
        p1 = out[:, 0].clamp(0, 1) if loss == "bce_prob" else torch.sigmoid(out[:, 0])
        probs = torch.stack([1 - p1, p1], dim=1)
    elif loss == "nll":
        probs = out.exp()
        probs = probs / probs.sum(dim=1, keepdim=True).clamp(min=1e-12)
    else:
        probs = torch.softmax(out, dim=1)
    return torch.nan_to_num(probs, nan=0.0, posinf=1.0, neginf=0.0)


def colour_probabilities(probs: np.ndarray, colours: np.ndarray, n: int) -> np.ndarray:
    """(n·n, C) probabilities -> (n, n, 4) uint8: class colours mixed by probability,
    more opaque where the model is sure, and a light line where the winner changes."""
    c = probs.shape[1]
    rgb = probs @ colours[:c, :3].astype(np.float32)  # (n·n, 3) in 0..255
    top = probs.max(axis=1)
    sure = np.clip((top - 1.0 / c) / (1.0 - 1.0 / c), 0.0, 1.0)
    alpha = 30 + 110 * sure  # light enough that the training points stand out on it
    rgba = np.empty((n * n, 4), np.uint8)
    rgba[:, :3] = np.clip(rgb, 0, 255)
    rgba[:, 3] = alpha
    rgba = rgba.reshape(n, n, 4)
    winner = probs.argmax(axis=1).reshape(n, n)
    edge = np.zeros((n, n), bool)
    edge[:, 1:] |= winner[:, 1:] != winner[:, :-1]
    edge[1:, :] |= winner[1:, :] != winner[:-1, :]
    rgba[edge] = EDGE_RGBA
    return rgba


class BoundaryProbe(Callback):
    """Send a :class:`BoundaryImage` of ``model`` to ``sink`` while it trains.

    ``points`` are training inputs in original units (what the scatter shows);
    ``norm_mean``/``norm_std`` turn grid points into what the model is fed.
    """

    def __init__(self, model: nn.Module, points: np.ndarray, sink: Callable[[BoundaryImage], None],
                 colours: np.ndarray, loss: str = "auto", norm_mean: Sequence[float] | None = None,
                 norm_std: Sequence[float] | None = None, resolution: int = 120,
                 max_rate_hz: float = 5.0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.model = model
        self.sink = sink
        self.colours = np.asarray(colours, np.float32)
        self.loss = loss
        self.n = resolution
        self.pacer = Pacer(max_rate_hz, BOUNDARY_SHARE, clock)
        self.extent = grid_extent(np.asarray(points, np.float32))
        x0, x1, y0, y1 = self.extent
        gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)  # row 0 = y0
        if norm_mean is not None and norm_std is not None:
            grid = (grid - np.asarray(norm_mean, np.float32)) / np.asarray(norm_std, np.float32)
        self._grid_cpu = torch.from_numpy(grid)
        self._grid: torch.Tensor | None = None
        self.captures = 0

    def on_train_start(self, info: RunInfo) -> None:
        param = next(self.model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        self._grid = self._grid_cpu.to(device)
        self.pacer.reset()

    def on_step(self, s: StepInfo) -> None:
        if self.pacer.due():
            self.capture(s.global_step, s.epoch)

    def on_train_end(self, result: TrainResult) -> None:
        # the last picture shows the final weights (or the restored best ones)
        if result.stopped_reason != "error" and self._grid is not None:
            self.capture(result.global_step, result.epochs_completed)

    def capture(self, global_step: int, epoch: int) -> BoundaryImage:
        start = self.pacer.clock()
        grid = self._grid if self._grid is not None else self._grid_cpu
        devices = [grid.device.index or 0] if grid.is_cuda else []
        # eval mode (dropout off, BatchNorm running stats) and every module's own flag
        # back afterwards; fork_rng keeps the run's random stream where it was
        with torch.random.fork_rng(devices=devices), eval_mode(self.model), torch.no_grad():
            out = self.model(grid)
        probs = probabilities(out, self.loss).cpu().numpy()
        image = BoundaryImage(colour_probabilities(probs, self.colours, self.n), self.extent,
                              global_step, epoch)
        self.sink(image)
        self.captures += 1
        self.pacer.ran(start)
        return image
