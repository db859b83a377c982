"""Activation snapshots turned into pictures, on the trainer's thread.

The trainer's :class:`~nnstudio.train.ActivationProbe` measures each layer now and then
(mean, std, a histogram, dead ReLU units, conv feature maps, gradient norms).
:class:`ActivationHistory` keeps those measurements over time and, after each one, hands
``sink`` an :class:`ActivationFrame` whose arrays are ready to draw: per layer a
histogram-over-time picture (x = time, y = value, colour = share of values), mean and
std over time, and a mosaic of feature maps.  All the numpy work happens here, so the
main thread only sets images and curves.

No Qt here; the worker passes ``sink`` (its outbox) in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from nnstudio.train import ActivationSnapshot, Callback, LayerStats

VALUE_BINS = 48  # rows of a histogram-over-time picture
MAX_COLUMNS = 400  # columns kept; when full, neighbours are merged (the whole run stays)


@dataclass
class LayerFrame:
    """One layer's pictures and curves; arrays are owned by the frame (safe to keep)."""

    path: str  # module path, e.g. "fc1"
    label: str  # what the person named the node, e.g. "fc1 · Linear"
    kind: str
    shape: tuple[int, ...]
    hist_rgba: np.ndarray  # (VALUE_BINS, T, 4) uint8, row 0 = lowest value
    value_range: tuple[float, float]  # values at the bottom and top of the picture
    steps: np.ndarray  # (T,) global step of each column
    mean: np.ndarray  # (T,)
    std: np.ndarray  # (T,)
    dead: float | None = None  # latest dead-unit fraction (ReLU family only)
    fmap_rgba: np.ndarray | None = None  # mosaic of feature maps of probe example 0
    fmap_grid: tuple[int, int, int, int] | None = None  # rows, cols, tile height, tile width


@dataclass
class ActivationFrame:
    global_step: int
    epoch: int
    layers: list[LayerFrame] = field(default_factory=list)  # in execution order
    grad_norms: dict[str, float] = field(default_factory=dict)  # path -> latest L2 norm


def rebin(counts: np.ndarray, lo: np.ndarray, hi: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Re-bin rows of histogram ``counts`` (T, B), row t spanning [lo[t], hi[t]], onto the
    common bin ``edges`` (M+1,).  Counts are spread evenly within each old bin (the
    cumulative count is interpolated linearly), so each row's total is kept."""
    counts = np.asarray(counts, np.float64)
    t, b = counts.shape
    cum = np.zeros((t, b + 1))
    np.cumsum(counts, axis=1, out=cum[:, 1:])
    width = np.maximum(hi - lo, 1e-12)[:, None]
    pos = np.clip((edges[None, :] - lo[:, None]) / width * b, 0, b)  # (T, M+1) in old bins
    left = np.minimum(pos.astype(np.int64), b - 1)
    frac = pos - left
    rows = np.arange(t)[:, None]
    at = cum[rows, left] + frac * (cum[rows, left + 1] - cum[rows, left])
    return np.diff(at, axis=1)


def colour(values: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (NaN = transparent) -> RGBA uint8 through ``lut`` (256, 4)."""
    idx = np.clip(np.nan_to_num(values, nan=0.0) * 255, 0, 255).astype(np.uint8)
    rgba = lut[idx]
    rgba[np.isnan(values)] = 0
    return rgba


def feature_mosaic(maps: np.ndarray, lut: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(C, H, W) feature maps -> one RGBA picture, maps on a grid with 1-pixel gaps,
    each scaled to its own min..max; row 0 of the result is the bottom of the picture."""
    c, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = int(np.ceil(c / cols))
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, np.float32)
    lo = maps.reshape(c, -1).min(axis=1)
    hi = maps.reshape(c, -1).max(axis=1)
    scaled = (maps - lo[:, None, None]) / np.maximum(hi - lo, 1e-12)[:, None, None]
    for i in range(c):
        r, k = divmod(i, cols)
        # image row 0 is drawn at the bottom: put the first map in the top-left corner and
        # flip each map so it reads the right way up
        top = (rows - 1 - r) * (h + 1)
        out[top: top + h, k * (w + 1): k * (w + 1) + w] = scaled[i, ::-1, :]
    return colour(out, lut), (rows, cols, h, w)


class _Track:
    """The history of one layer, re-binned onto a common value range that only grows.

    The coloured picture is kept too and only the new column is coloured after each
    snapshot (each column is scaled to its own peak, so the others do not change); all
    are recoloured only when the range grows or neighbouring columns are merged.
    """

    def __init__(self, columns: int, lut: np.ndarray) -> None:
        self.cap = columns
        self.lut = lut
        self.n = 0
        self.img = np.zeros((columns, VALUE_BINS))  # rows = time here; transposed when sent
        self.rgba = np.zeros((VALUE_BINS, columns, 4), np.uint8)
        self.coloured = 0  # columns of rgba that are up to date
        self.steps = np.zeros(columns)
        self.mean = np.zeros(columns)
        self.std = np.zeros(columns)
        self.lo = self.hi = 0.0

    def add(self, step: int, stats: LayerStats) -> None:
        lo, hi = stats.hist_range
        if self.n == 0:
            pad = 0.05 * (hi - lo)
            self.lo, self.hi = lo - pad, hi + pad
        elif lo < self.lo or hi > self.hi:
            # grow with a margin so that a drifting layer is re-binned rarely
            span = max(hi, self.hi) - min(lo, self.lo)
            new_lo = min(lo, self.lo) - (0.15 * span if lo < self.lo else 0.0)
            new_hi = max(hi, self.hi) + (0.15 * span if hi > self.hi else 0.0)
            edges = np.linspace(new_lo, new_hi, VALUE_BINS + 1)
            n = self.n
            self.img[:n] = rebin(self.img[:n], np.full(n, self.lo), np.full(n, self.hi), edges)
            self.lo, self.hi = new_lo, new_hi
            self.coloured = 0
        if self.n == self.cap:  # merge neighbouring columns: half the columns, all the run
            half = self.cap // 2
            for arr in (self.img, self.mean, self.std):
                arr[:half] = (arr[0: 2 * half: 2] + arr[1: 2 * half: 2]) / 2
            self.steps[:half] = self.steps[1: 2 * half: 2]
            self.n = half
            self.coloured = 0
        edges = np.linspace(self.lo, self.hi, VALUE_BINS + 1)
        counts = np.asarray(stats.hist, np.float64)[None, :]
        self.img[self.n] = rebin(counts, np.array([lo]), np.array([hi]), edges)[0]
        self.steps[self.n] = step
        self.mean[self.n] = stats.mean
        self.std[self.n] = stats.std
        self.n += 1

    def picture(self) -> np.ndarray:
        """(VALUE_BINS, T, 4) uint8, a copy the caller may keep."""
        start = self.coloured
        cols = self.img[start: self.n]
        if len(cols):
            peak = cols.max(axis=1, keepdims=True)
            # each column scaled to its own peak, square root to show the tails
            shown = np.sqrt(cols / np.maximum(peak, 1e-12))
            shown[cols <= 1e-9] = np.nan  # no values there: let the plot's background show
            self.rgba[:, start: self.n] = colour(shown.T.astype(np.float32), self.lut)
            self.coloured = self.n
        return self.rgba[:, : self.n].copy()


class ActivationHistory(Callback):
    """Keep the activation snapshots of a run and send ``sink`` a frame after each one.

    ``labels`` names module paths for people (from the graph: node name and layer type).
    """

    def __init__(self, sink: Callable[[ActivationFrame], None], lut: np.ndarray,
                 labels: Mapping[str, str] | None = None, columns: int = MAX_COLUMNS) -> None:
        self.sink = sink
        self.lut = np.asarray(lut, np.uint8)
        self.labels = dict(labels or {})
        self.columns = columns
        self.tracks: dict[str, _Track] = {}
        self.frames = 0

    def on_activations(self, snap: ActivationSnapshot) -> None:
        frame = ActivationFrame(snap.global_step, snap.epoch, grad_norms=dict(snap.grad_norms))
        for path, stats in snap.layers.items():
            track = self.tracks.get(path)
            if track is None:
                track = self.tracks[path] = _Track(self.columns, self.lut)
            track.add(snap.global_step, stats)
            n = track.n
            layer = LayerFrame(
                path, self.labels.get(path, f"{path or 'model'} · {stats.kind}"), stats.kind,
                tuple(stats.shape), track.picture(), (track.lo, track.hi),
                track.steps[:n].copy(), track.mean[:n].copy(), track.std[:n].copy(),
                stats.dead_fraction)
            if stats.feature_maps is not None and stats.feature_maps.numel():
                maps = stats.feature_maps.float().numpy()
                layer.fmap_rgba, layer.fmap_grid = feature_mosaic(maps, self.lut)
            frame.layers.append(layer)
        self.frames += 1
        self.sink(frame)
