"""The pictures the worker thread makes for the live views: histograms re-binned over
time, feature-map mosaics, class probabilities and the decision-boundary image."""

from __future__ import annotations

import numpy as np
import torch

from nnstudio.train import LayerStats
from nnstudio.ui.training.activation_history import (
    VALUE_BINS,
    ActivationHistory,
    feature_mosaic,
    rebin,
)
from nnstudio.ui.training.boundary_probe import (
    EDGE_RGBA,
    BoundaryProbe,
    colour_probabilities,
    grid_extent,
    probabilities,
)
from nnstudio.ui.training.plot_style import class_rgb, lut
from nnstudio.ui.training.series import GrowingSeries


def test_rebin_keeps_each_rows_total_and_places_the_mass():
    counts = np.array([[0, 10, 0, 0], [5, 5, 5, 5]], float)
    edges = np.linspace(-2.0, 2.0, 9)  # 8 bins of 0.5 over [-2, 2]
    out = rebin(counts, np.array([0.0, -1.0]), np.array([1.0, 1.0]), edges)
    assert out.shape == (2, 8)
    assert np.allclose(out.sum(axis=1), [10, 20])
    assert np.allclose(out[0], [0, 0, 0, 0, 10, 0, 0, 0])  # [0.25, 0.5) lies in [0, 0.5)

    assert np.allclose(out[1, :2], 0) and np.allclose(out[1, 6:], 0)


def snapshot_stats(lo: float, hi: float, seed: int) -> LayerStats:
    rng = np.random.default_rng(seed)
    hist = rng.integers(0, 50, 30).tolist()
    return LayerStats("fc1", "Linear", (64, 16), float(rng.normal()), 1.0, hist, (lo, hi))


class _Snap:
    def __init__(self, step, stats):
        self.global_step, self.epoch = step, 1
        self.layers = {"fc1": stats}
        self.grad_norms = {"fc1": 0.5}


def test_the_history_picture_is_coloured_incrementally_and_equals_a_full_recolouring():
    frames = []
    history = ActivationHistory(frames.append, lut("viridis"), {"fc1": "fc1 · Linear"}, columns=8)
    ranges = [(-1, 1), (-1, 1), (-0.5, 0.8), (-3, 2), (-1, 1), (-1, 1), (-1, 1), (-1, 1),
              (-1, 1), (-1, 1), (-1, 1)]  # one range growth and one merge of columns
    for step, (lo, hi) in enumerate(ranges, 1):
        history.on_activations(_Snap(step * 10, snapshot_stats(lo, hi, step)))
    layer = frames[-1].layers[0]
    track = history.tracks["fc1"]
    assert layer.label == "fc1 · Linear"
    assert layer.hist_rgba.shape == (VALUE_BINS, track.n, 4)
    assert len(layer.steps) == track.n <= 8 and layer.steps[-1] == 110
    track.coloured = 0  # forget the incremental work: colour every column again
    assert np.array_equal(track.picture(), layer.hist_rgba)
    lo, hi = layer.value_range
    assert lo <= -3 and hi >= 2  # the range grew to hold every snapshot


def test_feature_maps_become_one_mosaic_with_the_first_map_top_left():
    maps = np.zeros((5, 4, 3), np.float32)
    maps[0, 0, 0] = 1.0  # the top-left pixel of the first map is its brightest
    rgba, (rows, cols, h, w) = feature_mosaic(maps, lut("viridis"))
    assert (rows, cols, h, w) == (2, 3, 4, 3)
    assert rgba.shape == (2 * 5 - 1, 3 * 4 - 1, 4)
    # row 0 of the picture is drawn at the bottom: the first map's top row is the last row
    assert tuple(rgba[-1, 0]) == tuple(lut("viridis")[255])
    assert rgba[4, 0, 3] == 0  # the gap between rows is transparent


def test_probabilities_follow_the_loss_the_model_is_trained_with():
    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    p = probabilities(logits, "cross_entropy")
    assert torch.allclose(p.sum(dim=1), torch.ones(2)) and p[0, 0] > 0.8
    one = torch.tensor([[0.0], [10.0]])
    assert torch.allclose(probabilities(one, "bce")[:, 1], torch.sigmoid(one[:, 0]))
    assert torch.allclose(probabilities(torch.tensor([[0.25]]), "bce_prob"),
                          torch.tensor([[0.75, 0.25]]))
    logp = torch.log_softmax(torch.tensor([[1.0, 2.0, 3.0]]), dim=1)
    assert torch.allclose(probabilities(logp, "nll"), torch.softmax(torch.tensor([[1.0, 2.0, 3.0]]), 1))
    assert torch.isfinite(probabilities(torch.tensor([[float("nan"), 1.0]]), "cross_entropy")).all()


def test_the_boundary_picture_marks_where_the_winning_class_changes():
    n = 4
    probs = np.zeros((n * n, 2), np.float32)
    probs[:, 0] = 1.0
    probs.reshape(n, n, 2)[:, 2:] = [0.0, 1.0]  # right half is class 1
    rgba = colour_probabilities(probs, class_rgb(2).astype(np.float32), n)
    assert rgba.shape == (n, n, 4)
    assert all(tuple(rgba[r, 2]) == EDGE_RGBA for r in range(n))
    assert tuple(rgba[0, 0, :3]) == tuple(class_rgb(2)[0])


def test_the_boundary_probe_evaluates_in_eval_mode_and_restores_training_mode():
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2))
    model.train()
    images = []
    points = np.array([[0.0, 0.0], [2.0, 1.0]], np.float32)
    probe = BoundaryProbe(model, points, images.append, class_rgb(2), resolution=20,
                          norm_mean=[1.0, 0.5], norm_std=[2.0, 1.0])
    state = torch.random.get_rng_state()
    image = probe.capture(7, 1)
    assert model.training and all(m.training for m in model.modules())
    assert torch.equal(state, torch.random.get_rng_state())  # the run's random stream untouched
    assert images == [image] and image.rgba.shape == (20, 20, 4)
    assert image.extent == grid_extent(points)
    again = probe.capture(8, 1)
    assert np.array_equal(again.rgba, image.rgba)  # eval mode: dropout off, deterministic


def test_a_growing_series_doubles_its_buffer_and_hands_out_views():
    s = GrowingSeries(2)
    s.append(0, 1.0)
    s.extend([1, 2, 3], [2.0, 3.0, 4.0])
    assert s.capacity == 4 and len(s) == 4
    s.append(4, 5.0)
    assert s.capacity == 8
    assert s.x.tolist() == [0, 1, 2, 3, 4] and s.y.tolist() == [1, 2, 3, 4, 5]
    assert s.x.base is not None  # a view of the buffer, not a copy
