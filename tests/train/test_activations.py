from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nnstudio.train import ActivationCapture, ActivationProbe, Callback, TrainConfig, Trainer


def mostly_dead_relu_net() -> nn.Sequential:
    """Linear(2→4) + ReLU where units 1, 2 and 3 are never positive on the probe;
    unit 0 is positive only for some examples (x0 > 0), so it is alive."""
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [-1.0, -1.0], [0.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, -1.0, -100.0, -5.0]))
    return net


PROBE = torch.tensor([[x, y] for x in (-2.0, -0.5, 0.5, 2.0, 3.0) for y in (-1.0, 1.0)])  # 10 × 2


def test_dead_fraction_counts_units_never_positive():
    snap = ActivationProbe(mostly_dead_relu_net(), PROBE).capture()
    assert snap.layers["1"].dead_fraction == pytest.approx(0.75)
    assert snap.layers["0"].dead_fraction is None  # only ReLU-family outputs
    assert snap.layers["1"].kind == "ReLU" and snap.layers["1"].shape == (10, 4)


def test_histograms_count_every_value_and_stats_match():
    net = mostly_dead_relu_net()
    snap = ActivationProbe(net, PROBE, bins=7).capture()
    pre = net[0](PROBE).detach()
    for name, values in (("0", pre), ("1", torch.relu(pre))):
        layer = snap.layers[name]
        assert len(layer.hist) == 7
        assert sum(layer.hist) == values.numel() == 40
        assert layer.hist_range == pytest.approx((values.min().item(), values.max().item()))
        assert layer.mean == pytest.approx(values.mean().item(), abs=1e-5)
        assert layer.std == pytest.approx(values.std(correction=0).item(), abs=1e-5)


def test_a_constant_layer_gets_one_full_bar():
    net = nn.Sequential(nn.Linear(2, 3))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.fill_(2.0)
    layer = ActivationProbe(net, PROBE, bins=5).capture().layers["0"]
    assert layer.hist == [0, 0, 30, 0, 0] and layer.hist_range == (1.5, 2.5)


def test_conv_feature_maps_of_the_first_example_are_capped_at_16_channels():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 20, 3, padding=1), nn.ReLU())
    x = torch.randn(5, 1, 6, 6)
    snap = ActivationProbe(net, x).capture()
    maps = snap.layers["0"].feature_maps
    assert maps.shape == (16, 6, 6) and maps.device.type == "cpu"
    assert torch.allclose(maps, net[0](x)[0, :16].detach())
    assert snap.layers["1"].feature_maps.shape == (16, 6, 6)


def test_tuple_outputs_use_their_first_tensor():
    net = nn.Sequential(nn.LSTM(2, 3, batch_first=True))
    snap = ActivationProbe(net, torch.randn(4, 5, 2)).capture()
    assert snap.layers["0"].shape == (4, 5, 3)


class Noisy(nn.Module):
    """Draws random numbers even in eval mode."""

    def forward(self, x):
        return x + 0 * torch.rand_like(x)


def test_capture_keeps_training_flags_rng_and_hooks_as_they_were():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), Noisy(), nn.ReLU())
    net.train()
    net[1].eval()  # frozen by the person: must stay so
    rng = torch.get_rng_state()
    probe = ActivationProbe(net, PROBE)
    probe.capture()
    assert net.training and not net[1].training and net[2].training
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(not m._forward_hooks for m in net.modules())
    probe.close()
    assert all(not m._forward_hooks for m in net.modules())


def test_rate_is_bounded_by_time_and_by_step():
    now = [100.0]
    probe = ActivationProbe(mostly_dead_relu_net(), PROBE, max_rate_hz=10, clock=lambda: now[0])
    assert probe.maybe_capture(1) is not None
    assert probe.maybe_capture(2) is None  # same instant
    now[0] += 0.05
    assert probe.maybe_capture(3) is None  # 50 ms < 1/10 s
    now[0] += 0.06
    assert probe.maybe_capture(4).global_step == 4
    now[0] += 1.0
    assert probe.maybe_capture(4) is None  # never twice for one step


def test_the_pictures_made_from_a_capture_count_towards_its_share_of_the_time():
    now = [100.0]
    probe = ActivationProbe(mostly_dead_relu_net(), PROBE, max_rate_hz=10,
                            clock=lambda: now[0], share=0.01)
    assert probe.maybe_capture(1) is not None  # the capture itself took no (fake) time
    now[0] += 0.02  # the trainer's callbacks spent 20 ms turning it into pictures
    probe.booked()  # so the next may come 2 s after this one began, not 0.1 s
    now[0] = 100.0 + 1.9
    assert probe.maybe_capture(2) is None
    now[0] = 100.0 + 2.0
    assert probe.maybe_capture(3) is not None


def test_gradient_norms_per_module_from_the_last_backward():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    probe = ActivationProbe(net, PROBE)
    assert probe.capture().grad_norms == {}
    net(PROBE).pow(2).mean().backward()
    norms = probe.capture().grad_norms
    assert set(norms) == {"0", "2"}
    expected = math.sqrt(net[2].weight.grad.pow(2).sum().item() + net[2].bias.grad.pow(2).sum().item())
    assert norms["2"] == pytest.approx(expected, rel=1e-5)


def test_trainer_sends_snapshots_to_callbacks_that_want_them(blobs, make_mlp):
    snaps = []

    class Grab(Callback):
        def on_activations(self, snap):
            snaps.append(snap)

    config = TrainConfig(epochs=2, device="cpu", activations=ActivationCapture(probe_size=16))
    Trainer(make_mlp(), blobs(), config, [Grab()]).fit()
    assert snaps, "no snapshot"
    first = snaps[0]
    assert list(first.layers) == ["0", "1", "2"]
    assert first.layers["0"].shape == (16, 16)
    assert set(first.grad_norms) == {"0", "2"} and all(v > 0 for v in first.grad_norms.values())
    steps = [s.global_step for s in snaps]
    assert steps == sorted(set(steps))


def test_trainer_builds_no_probe_without_a_listener(blobs, make_mlp):
    trainer = Trainer(make_mlp(), blobs(), TrainConfig(epochs=1, device="cpu"))
    trainer.fit()
    assert trainer._probe is None


def test_histograms_match_torch_histc_bin_for_bin():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 50), nn.Tanh())
    x = torch.randn(40, 3) * 3
    snap = ActivationProbe(net, x, bins=13).capture()
    for name, values in (("0", net[0](x)), ("1", net(x))):
        values = values.detach()
        lo, hi = snap.layers[name].hist_range
        expected = torch.histc(values, bins=13, min=lo, max=hi).long().tolist()
        assert snap.layers[name].hist == expected
        assert snap.layers[name].hist[-1] >= 1  # the largest value lands in the last bin


class Diverging(nn.Module):
    """A layer whose output has a NaN and an inf among ordinary values."""

    def forward(self, x):
        out = x.clone()
        out[0, 0] = float("nan")
        out[1, 0] = float("inf")
        return out


def test_non_finite_values_are_left_out_of_the_statistics_not_spread_into_them():
    x = torch.arange(20.0).reshape(10, 2)
    layer = ActivationProbe(nn.Sequential(Diverging()), x, bins=4).capture().layers["0"]
    finite = torch.cat([x.flatten()[1:2], x.flatten()[3:]])  # without [0, 0] and [1, 0]
    assert sum(layer.hist) == finite.numel() == 18
    assert layer.hist_range == (finite.min().item(), finite.max().item())
    assert layer.mean == pytest.approx(finite.mean().item())
    assert layer.std == pytest.approx(finite.std(correction=0).item())


def test_a_layer_with_no_finite_value_has_no_mean_and_an_empty_histogram():
    class AllNan(nn.Module):
        def forward(self, x):
            return torch.full_like(x, float("nan"))

    layer = ActivationProbe(nn.Sequential(AllNan()), PROBE, bins=5).capture().layers["0"]
    assert math.isnan(layer.mean) and math.isnan(layer.std)
    assert layer.hist == [0] * 5
