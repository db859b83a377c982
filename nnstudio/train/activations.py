"""Look inside a training network: per-layer activation statistics on a fixed probe batch.

:class:`ActivationProbe` runs the model on the same few examples now and then,
in eval mode without gradients, and records for each leaf module (named by its
module path, which is the node identifier of the drawn graph): mean, std, a
histogram, the fraction of dead units after ReLU-like layers, the feature maps
of example 0 for conv outputs, plus the gradient norm of each parameterised
module from the last training step.

Hooks exist only while the probe batch runs: hooks left on the model would be
called on every training step and cost time there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.pacing import ACTIVATION_SHARE, Pacer

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11

# outputs of these are never negative-and-alive: a unit that is <= 0 on every probe
# example passes no gradient (or almost none, for the leaky ones) and is "dead"
RELU_FAMILY: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU)


@dataclass
class LayerStats:
    """Statistics of one leaf module's output on the probe batch."""

    name: str  # module path, e.g. "features.0"
    kind: str  # module class name, e.g. "Conv2d"
    shape: tuple[int, ...]  # output shape on the probe batch, batch first
    mean: float
    std: float  # population std (divides by N)
    hist: list[int]  # counts of the finite output values, `bins` of equal width
    hist_range: tuple[float, float]  # low edge of the first bin, high edge of the last
    dead_fraction: float | None = None  # ReLU family only: units <= 0 for every example
    feature_maps: torch.Tensor | None = None  # 4-D outputs: C×H×W of example 0, CPU float32


@dataclass
class ActivationSnapshot:
    """One look inside the network; tensors in it live on the CPU and are safe to share."""

    global_step: int
    epoch: int
    layers: dict[str, LayerStats] = field(default_factory=dict)  # in execution order
    grad_norms: dict[str, float] = field(default_factory=dict)  # module path -> L2 norm


def _first_tensor(output: object) -> torch.Tensor | None:
    """The tensor to look at when a module returns a tuple (LSTM, attention)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)):
        for item in output:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _mean_std(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and population std, two-pass: as exact as ``torch.std_mean`` and, on the CPU,
    several times faster for a probe's few thousand values."""
    mean = values.mean()
    return mean, (values - mean).square().mean().sqrt()


def _histogram(values: torch.Tensor, bins: int, lo: float, hi: float) -> torch.Tensor:
    """Counts of ``values`` (all within [lo, hi]) in ``bins`` equal bins, the last one
    closed, as ``torch.histc`` counts them, in about half its time (int64)."""
    index = ((values - lo) * (bins / (hi - lo))).to(torch.int64).clamp_(0, bins - 1)
    return torch.bincount(index.reshape(-1), minlength=bins)


class ActivationProbe:
    """Capture :class:`ActivationSnapshot`s of ``model`` on ``probe_x`` at a bounded rate.

    ``probe_x`` is a fixed input batch already on the model's device.  Capturing
    leaves each module's training flag and the RNG state exactly as they were.
    ``clock`` is injectable so tests can drive the rate limit without sleeping; ``share``
    bounds the capture's cost as a share of the time (see :mod:`nnstudio.train.pacing`).
    """

    def __init__(
        self,
        model: nn.Module,
        probe_x: torch.Tensor,
        bins: int = 30,
        max_channels: int = 16,
        max_rate_hz: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        share: float = ACTIVATION_SHARE,
    ) -> None:
        self.model = model
        self.probe_x = probe_x
        self.bins = bins
        self.max_channels = max_channels
        self.pacer = Pacer(max_rate_hz, share, clock)
        self._last_step: int | None = None
        self._started = 0.0
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._leaves = [(name, m) for name, m in model.named_modules()
                        if next(m.children(), None) is None]
        self._owners = [(name, list(m.parameters(recurse=False))) for name, m in model.named_modules()]
        self._owners = [(name, ps) for name, ps in self._owners if ps]

    @property
    def min_interval(self) -> float:
        return self.pacer.min_interval

    def maybe_capture(self, global_step: int, epoch: int = 0) -> ActivationSnapshot | None:
        """Capture unless one was taken at this step, or the pacer says not yet: less than
        1/max_rate_hz ago, or sooner than the last capture's cost allows (``share``).

        The capture's own time is booked here; a caller that does more with the snapshot
        (pictures made from it) books the whole with :meth:`booked`."""
        if global_step == self._last_step or not self.pacer.due():
            return None
        started = self.pacer.clock()
        snap = self.capture(global_step, epoch)
        self.pacer.ran(started)
        self._started = started
        return snap

    def booked(self) -> None:
        """Count everything since the last capture began as its cost (the trainer calls
        this after its callbacks have turned the snapshot into pictures)."""
        self.pacer.ran(self._started)

    def capture(self, global_step: int = 0, epoch: int = 0) -> ActivationSnapshot:
        """Run the probe batch now and return its snapshot (no rate limit)."""
        self._last_step = global_step
        outputs: dict[str, tuple[nn.Module, torch.Tensor]] = {}

        def record(name: str) -> Callable[..., None]:
            def hook(module: nn.Module, _inputs: object, output: object) -> None:
                tensor = _first_tensor(output)
                if tensor is not None:
                    outputs[name] = (module, tensor.detach())
            return hook

        devices = [self.probe_x.device.index or 0] if self.probe_x.is_cuda else []
        try:
            for name, module in self._leaves:
                self._handles.append(module.register_forward_hook(record(name)))
            # fork_rng: a model that draws random numbers in eval mode must not shift
            # the training run's random stream
            with torch.random.fork_rng(devices=devices), eval_mode(self.model), torch.no_grad():
                self.model(self.probe_x)
        finally:
            self._remove_hooks()
        snap = ActivationSnapshot(global_step, epoch)
        snap.layers = self._all_stats(outputs)
        snap.grad_norms = self.grad_norms()
        return snap

    def grad_norms(self) -> dict[str, float]:
        """L2 norm of the gradients of each module's own parameters (last backward pass)."""
        names, norms = [], []
        for name, params in self._owners:
            grads = [p.grad for p in params if p.grad is not None]
            if grads:
                names.append(name)
                norms.append(torch.linalg.vector_norm(torch.stack(
                    [torch.linalg.vector_norm(g, dtype=torch.float32) for g in grads])))
        if not norms:
            return {}
        return dict(zip(names, torch.stack(norms).tolist()))  # one device sync for all

    def _all_stats(self, outputs: dict[str, tuple[nn.Module, torch.Tensor]]) -> dict[str, LayerStats]:
        """Statistics of every recorded output: the scalars of all layers are read back
        at once and the histograms at once (two device syncs per capture, whatever the
        depth of the network), with kernels chosen for a probe's few thousand values
        (:func:`_mean_std`, :func:`_histogram`)."""
        layers = [(name, module, out, out.float()) for name, (module, out) in outputs.items()]
        rows = []
        for _name, module, out, values in layers:
            if values.numel() == 0:
                rows.append(values.new_full((5,), float("nan")))
                continue
            lo, hi = torch.aminmax(values)
            mean, std = _mean_std(values)
            dead = values.new_tensor(float("nan"))
            if isinstance(module, RELU_FAMILY) and out.dim() >= 1 and out.shape[0] > 0:
                dead = (values.amax(dim=0) <= 0).float().mean()
            rows.append(torch.stack([lo, hi, mean, std, dead]))
        scalars = torch.stack(rows).tolist() if rows else []
        ranges, hists = [], []
        for (_name, _module, _out, values), (lo, hi, mean, std, dead) in zip(layers, scalars):
            if values.numel() and not (math.isfinite(lo) and math.isfinite(hi)):
                # NaN or inf somewhere (a diverging run): describe the finite values only
                values = values[torch.isfinite(values)]
                if values.numel():
                    lo, hi = (float(v) for v in torch.aminmax(values))
                    mean, std = (float(v) for v in _mean_std(values))
            if values.numel() == 0:
                lo = hi = 0.0
                mean = std = float("nan")
            if hi <= lo:  # a constant layer still gets a visible, centred bar
                lo, hi = lo - 0.5, hi + 0.5
            ranges.append((lo, hi, mean, std, dead))
            hists.append(_histogram(values, self.bins, lo, hi))
        counts = torch.stack(hists).tolist() if hists else []
        stats: dict[str, LayerStats] = {}
        for (name, module, out, values), (lo, hi, mean, std, dead), hist in zip(layers, ranges, counts):
            maps = None
            if out.dim() == 4 and out.shape[0] > 0:
                maps = values[0, : self.max_channels].cpu().clone()
            stats[name] = LayerStats(name, type(module).__name__, tuple(out.shape), mean, std, hist,
                                     (lo, hi), None if math.isnan(dead) else dead, maps)
        return stats

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def close(self) -> None:
        """Remove any hook still registered and drop the probe batch."""
        self._remove_hooks()
        self.probe_x = self.probe_x[:0]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
