from __future__ import annotations

import threading
import time

import torch
from torch import nn

from nnstudio.train import RunControl, TrainConfig, Trainer

LATENCY_S = 0.2


class Counting(nn.Module):
    """Counts training forward passes and signals each one."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        self.calls = 0
        self.stepped = threading.Event()

    def forward(self, x):
        if self.training:
            self.calls += 1
            self.stepped.set()
        return self.net(x)


def start_long_run(blobs, control: RunControl):
    """A run far longer than the test: 10 000 steps per epoch, 100 epochs."""
    model = Counting()
    trainer = Trainer(model, blobs(n_train=20_000, n_val=20, n_test=20),
                      TrainConfig(epochs=100, batch_size=2, device="cpu"), control=control)
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("result", trainer.fit()), daemon=True)
    thread.start()
    assert model.stepped.wait(5), "training did not start"
    while model.calls < 20:  # well inside the first epoch
        time.sleep(0.001)
    return model, thread, out


def test_pause_resume_and_stop_take_effect_within_200_ms_mid_epoch(blobs):
    control = RunControl()
    model, thread, out = start_long_run(blobs, control)
    try:
        t0 = time.perf_counter()
        control.pause()
        assert control.wait_until_held(timeout=2)
        assert time.perf_counter() - t0 < LATENCY_S
        assert control.paused
        calls = model.calls
        time.sleep(0.1)
        assert model.calls == calls, "steps ran while paused"

        model.stepped.clear()
        t0 = time.perf_counter()
        control.resume()
        assert model.stepped.wait(2)
        assert time.perf_counter() - t0 < LATENCY_S

        t0 = time.perf_counter()
        control.stop()
        thread.join(timeout=2)
        assert not thread.is_alive()
        assert time.perf_counter() - t0 < LATENCY_S
    finally:
        control.stop()
        thread.join(timeout=5)
    result = out["result"]
    assert result.stopped_reason == "stopped"
    assert result.epochs_completed == 0 and 0 < result.global_step < 10_000
    assert "Stopped" in result.message


def test_stop_while_paused_ends_the_run(blobs):
    control = RunControl()
    _model, thread, out = start_long_run(blobs, control)
    try:
        control.pause()
        assert control.wait_until_held(timeout=2)
        t0 = time.perf_counter()
        control.stop()
        thread.join(timeout=2)
        assert time.perf_counter() - t0 < LATENCY_S
    finally:
        control.stop()
        thread.join(timeout=5)
    assert out["result"].stopped_reason == "stopped"


def test_paused_time_is_left_out_of_elapsed(blobs):
    control = RunControl()
    begin = time.perf_counter()
    _model, thread, out = start_long_run(blobs, control)
    try:
        control.pause()
        assert control.wait_until_held(timeout=2)
        time.sleep(0.3)
    finally:
        control.stop()
        thread.join(timeout=5)
    wall = time.perf_counter() - begin
    assert 0 < out["result"].elapsed_s < wall - 0.25


def test_run_control_state_machine():
    c = RunControl()
    assert not c.paused and not c.stopped and not c.should_check()
    c.pause()
    assert c.paused and c.should_check()
    c.resume()
    assert not c.paused and not c.should_check()
    c.stop()
    assert c.stopped and c.should_check() and not c.paused
    c.pause()  # no effect once stopped
    assert not c.paused
    assert c.wait_while_paused() is False
