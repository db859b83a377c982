from __future__ import annotations

import csv
import math
from collections import OrderedDict

import pytest
import torch
from torch import nn

from nnstudio.train import Callback, CSVLogger, TrainConfig, Trainer, TrainingError


class Recorder(Callback):
    """Keeps every event, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def _add(self, kind, value):
        self.events.append((kind, value))

    def on_train_start(self, info):
        self._add("start", info)

    def on_step(self, s):
        self._add("step", s)

    def on_epoch_end(self, e):
        self._add("epoch", e)

    def on_evaluate(self, ev):
        self._add("eval", ev)

    def on_train_end(self, result):
        self._add("end", result)

    def of(self, kind):
        return [v for k, v in self.events if k == kind]


def cpu(**kw) -> TrainConfig:
    kw.setdefault("device", "cpu")
    return TrainConfig(**kw)


class Trigger(nn.Module):
    """Identity, except on its ``at``-th call in training mode, where it does ``action``."""

    def __init__(self, at: int, action) -> None:
        super().__init__()
        self.at, self.action, self.calls = at, action, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                return self.action(x)
        return x


def mlp_with(trigger: nn.Module) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(
        [("fc1", nn.Linear(2, 8)), ("act", nn.ReLU()), ("trigger", trigger), ("fc2", nn.Linear(8, 2))]))


# ------------------------------------------------------------------ callbacks
def test_callbacks_receive_sane_values_in_order(blobs, make_mlp):
    rec = Recorder()
    config = cpu(epochs=3, batch_size=32, lr=0.05)
    result = Trainer(make_mlp(), blobs(), config, [rec], report_every_s=0).fit()
    assert result.stopped_reason == "completed"
    kinds = [k for k, _ in rec.events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    start = rec.of("start")[0]
    assert start.steps_per_epoch == 8  # 240 examples / 32 = 7 full batches + one of 16
    assert start.total_steps == 24 and start.n_params == start.n_trainable == 82
    assert start.device == "cpu" and start.config["lr"] == 0.05
    steps = rec.of("step")
    assert [s.global_step for s in steps] == list(range(1, 25))  # every step when report_every_s=0
    assert [s.step for s in steps[:8]] == list(range(1, 9))
    assert all(s.lr == 0.05 and s.eta_s >= 0 and s.samples_per_s > 0 for s in steps)
    assert steps[-1].eta_s == 0 and math.isfinite(steps[0].loss)
    epochs = rec.of("epoch")
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert set(epochs[0].val) >= {"loss", "accuracy"}
    evals = rec.of("eval")
    assert [ev.split for ev in evals] == ["val", "val", "val", "test"]
    assert rec.of("end")[0] is result
    assert result.metrics["test"] == evals[-1].metrics


def test_on_step_is_rate_limited_by_default(blobs, make_mlp):
    rec = Recorder()
    Trainer(make_mlp(), blobs(n_train=2000), cpu(epochs=1, batch_size=4), [rec]).fit()
    # 500 steps take far less than 1 s here: the 20 Hz limit leaves a handful of reports
    steps = rec.of("step")
    assert 1 <= len(steps) < 100
    assert steps[-1].global_step == 500


def test_a_last_batch_of_one_example_is_skipped(blobs, make_mlp):
    rec = Recorder()
    Trainer(make_mlp(), blobs(n_train=65), cpu(epochs=1, batch_size=32), [rec]).fit()
    assert rec.of("start")[0].steps_per_epoch == 2


def test_csv_logger_writes_one_complete_row_per_epoch(blobs, make_mlp, tmp_path):
    path = tmp_path / "metrics.csv"
    Trainer(make_mlp(), blobs(), cpu(epochs=3, eval_every=2), [CSVLogger(path)]).fit()
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["val_loss"] == "" and rows[1]["val_loss"] != ""  # epoch 1 not evaluated
    assert float(rows[2]["val_accuracy"]) > 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]  # no temp files left


# -------------------------------------------------------------- reproducibility
def dropout_mlp() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))


def test_same_seed_gives_identical_history(blobs):
    runs = [Trainer(dropout_mlp(), blobs(), cpu(epochs=3, seed=7)).fit() for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert runs[0].metrics == runs[1].metrics


def test_another_seed_gives_another_history(blobs):
    a = Trainer(dropout_mlp(), blobs(), cpu(epochs=2, seed=1)).fit()
    b = Trainer(dropout_mlp(), blobs(), cpu(epochs=2, seed=2)).fit()
    assert a.history != b.history


# ------------------------------------------------------------------- schedules
def test_step_schedule_multiplies_lr_every_step_size_epochs(blobs, make_mlp):
    result = Trainer(make_mlp(), blobs(), cpu(optimizer="sgd", lr=0.1, epochs=5, schedule="step",
                                              step_size=2, gamma=0.5)).fit()
    assert [r["lr"] for r in result.history] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_cosine_schedule_anneals_over_the_epochs(blobs, make_mlp):
    result = Trainer(make_mlp(), blobs(), cpu(lr=0.1, epochs=4, schedule="cosine")).fit()
    expected = [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    assert [r["lr"] for r in result.history] == pytest.approx(expected)


def test_onecycle_steps_per_batch_warming_up_then_annealing(blobs, make_mlp):
    rec = Recorder()
    Trainer(make_mlp(), blobs(), cpu(lr=0.1, epochs=4, schedule="onecycle"), [rec],
            report_every_s=0).fit()
    lrs = [s.lr for s in rec.of("step")]
    assert len(lrs) == 32
    assert lrs[0] == pytest.approx(0.1 / 25)  # OneCycle's default div_factor
    peak = max(range(32), key=lrs.__getitem__)
    assert lrs[peak] == pytest.approx(0.1, rel=0.05) and 6 <= peak <= 13  # ~30 % of the way
    assert lrs[-1] == pytest.approx(0.1 / 25 / 1e4, rel=1e-3)
    assert all(a > b for a, b in zip(lrs[peak:], lrs[peak + 1:]))


def test_epoch_lr_is_the_last_steps_whatever_the_report_rate(blobs, make_mlp):
    def lrs(every):
        config = cpu(lr=0.1, epochs=3, schedule="onecycle")
        return [r["lr"] for r in Trainer(make_mlp(), blobs(), config, report_every_s=every).fit().history]

    assert lrs(0.05) == lrs(0.0)


# ---------------------------------------------------------------- grad clipping
@pytest.mark.parametrize("clip", [0.0, 0.01])
def test_grad_clipping_bounds_the_update(line, clip):
    data = line()
    data.train.y.mul_(1000.0)  # huge targets, huge gradients
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    before = torch.cat([p.detach().flatten() for p in model.parameters()]).clone()
    config = cpu(recipe="regression", optimizer="sgd", momentum=0.0, lr=1.0, epochs=1,
                 batch_size=len(data.train), grad_clip=clip)
    Trainer(model, data, config).fit()
    step = torch.cat([p.detach().flatten() for p in model.parameters()]) - before
    if clip:
        assert 0.5 * clip < step.norm() <= clip * (1 + 1e-4)
    else:
        assert step.norm() > 100


# --------------------------------------------------------------- early stopping
def test_early_stopping_stops_and_restores_the_best_weights(line, make_mlp):
    snapshots = {}

    class Snap(Callback):
        def on_epoch_end(self, e):
            snapshots[e.epoch] = {k: v.clone() for k, v in model.state_dict().items()}

    model = make_mlp(n_out=1)
    config = cpu(recipe="regression", lr=0.05, epochs=30, early_stopping_patience=2)
    result = Trainer(model, line(val_sign=-1.0), config, [Snap()]).fit()  # fitting train hurts val
    assert result.stopped_reason == "early_stopping"
    assert result.restored_best and result.best_epoch is not None
    assert result.epochs_completed == result.best_epoch + 2 < 30
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[result.best_epoch][name])
    assert f"epoch {result.best_epoch}" in result.message and "restored" in result.message
    assert result.metrics["val"]["loss"] == pytest.approx(result.best_metric)


def test_without_a_validation_split_early_stopping_follows_the_training_loss(blobs, make_mlp):
    result = Trainer(make_mlp(), blobs(n_val=0), cpu(epochs=3, early_stopping_patience=2)).fit()
    assert result.stopped_reason == "completed"
    assert "val" not in result.metrics and result.best_epoch == 3


def test_eval_every_evaluates_on_those_epochs_and_the_last(blobs, make_mlp):
    result = Trainer(make_mlp(), blobs(), cpu(epochs=5, eval_every=2)).fit()
    assert [("val_loss" in row) for row in result.history] == [False, True, False, True, True]


# ---------------------------------------------------------------- failing runs
def test_a_nan_loss_ends_the_run_naming_the_step(blobs):
    model = mlp_with(Trigger(at=5, action=lambda x: x * float("nan")))
    result = Trainer(model, blobs(), cpu(epochs=2, batch_size=32)).fit()
    assert result.stopped_reason == "error"
    assert "at step 5 (epoch 1, batch 5)" in result.message
    assert "nan" in result.message and "learning rate" in result.message
    with pytest.raises(TrainingError, match="step 5"):
        result.raise_if_error()


def test_a_diverging_run_suggests_lowering_the_learning_rate(line, make_mlp):
    config = cpu(recipe="regression", optimizer="sgd", momentum=0.0, lr=50.0, epochs=20)
    result = Trainer(make_mlp(n_out=1), line(), config).fit()
    assert result.stopped_reason == "error"
    assert "try lowering it" in result.message


def test_an_exception_in_forward_names_type_text_and_module(blobs):
    def boom(x):
        raise ValueError("boom")

    result = Trainer(mlp_with(Trigger(at=3, action=boom)), blobs(), cpu(epochs=1)).fit()
    assert result.stopped_reason == "error"
    assert "at step 3" in result.message
    assert "module 'trigger' (Trigger)" in result.message and "ValueError: boom" in result.message


def test_a_shape_mismatch_is_caught_before_training_with_the_module(blobs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(3, 2))
    rec = Recorder()
    result = Trainer(model, blobs(), cpu(), [rec]).fit()
    assert result.stopped_reason == "error"
    assert "module '2' (Linear)" in result.message and "RuntimeError" in result.message
    assert [k for k, _ in rec.events] == ["end"]  # never started


def test_out_of_memory_suggests_a_smaller_batch(blobs):
    def oom(x):
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    result = Trainer(mlp_with(Trigger(at=2, action=oom)), blobs(), cpu(batch_size=64)).fit()
    assert result.stopped_reason == "error"
    assert "memory" in result.message and "batch of 64" in result.message
    assert "smaller batch size (e.g. 32)" in result.message


def test_a_model_without_trainable_parameters_is_refused(blobs, make_mlp):
    model = make_mlp()
    model.requires_grad_(False)
    result = Trainer(model, blobs(), cpu()).fit()
    assert result.stopped_reason == "error" and "trainable" in result.message


def test_a_callback_error_is_not_hidden(blobs, make_mlp):
    class Broken(Callback):
        def on_epoch_end(self, e):
            raise KeyError("bug in the UI")

    with pytest.raises(KeyError, match="bug in the UI"):
        Trainer(make_mlp(), blobs(), cpu(epochs=1), [Broken()]).fit()


def test_a_trainer_runs_once(blobs, make_mlp):
    trainer = Trainer(make_mlp(), blobs(), cpu(epochs=1))
    trainer.fit()
    with pytest.raises(RuntimeError, match="already run"):
        trainer.fit()


# ------------------------------------------------------------ batches in place
def _hand_perm(seed: int, epoch: int, n: int) -> torch.Tensor:
    from nnstudio.train.trainer import _derived_seed

    return torch.randperm(n, generator=torch.Generator().manual_seed(_derived_seed(seed, epoch, "shuffle")))


def test_batches_are_the_shuffled_examples_gathered_into_the_same_tensors(blobs, make_mlp,
                                                                          monkeypatch):
    from nnstudio.train.recipes import Recipe

    splits = blobs(n_train=230)  # batches of 100, 100 and a last one of 30
    seen = []
    step = Recipe.train_step

    def recording(self, model, batch, opt):
        seen.append((batch[0].data_ptr(), batch[0].clone(), batch[1].clone()))
        return step(self, model, batch, opt)

    monkeypatch.setattr(Recipe, "train_step", recording)
    trainer = Trainer(make_mlp(), splits, cpu(epochs=2, batch_size=100, seed=3))
    trainer.fit()
    assert trainer._batches is None  # the kept tensors go with the run
    assert len(seen) == 6
    x, y = splits.train.x, splits.train.y
    for i, (_ptr, xb, yb) in enumerate(seen):
        epoch, b = divmod(i, 3)
        idx = _hand_perm(3, epoch + 1, 230)[b * 100:(b + 1) * 100]
        assert torch.equal(xb, x[idx]) and torch.equal(yb, y[idx])
    assert len({ptr for ptr, _, _ in seen}) == 1  # one tensor, written over at every step


def test_weighted_batches_gather_their_weights_too():
    from nnstudio.train.batches import Batches, PlacedSplit

    split = PlacedSplit(torch.arange(20.0).reshape(10, 2), torch.arange(10), torch.linspace(0, 1, 10))
    batches = Batches(split, 4)
    for idx in (torch.tensor([3, 1, 4, 0]), torch.tensor([9, 2])):
        got = batches.take(idx)
        assert len(got) == 3
        for source, taken in zip((split.x, split.y, split.w), got):
            assert torch.equal(taken, source[idx])


def test_the_trainer_ends_with_the_weights_of_a_plain_loop(blobs, make_mlp):
    """Gathering in place changes no arithmetic: the same batches in the same order give
    bit-identical weights to ``x[idx]`` in a hand-written loop (partial last batch too)."""
    import torch.nn.functional as F

    splits = blobs(n_train=230)
    trained = make_mlp(seed=5)
    Trainer(trained, splits, cpu(epochs=3, batch_size=100, seed=4, optimizer="adam", lr=0.01)).fit()
    model = make_mlp(seed=5)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = splits.train.x, splits.train.y
    model.train()
    for epoch in range(1, 4):
        perm = _hand_perm(4, epoch, 230)
        for b in range(3):
            idx = perm[b * 100:(b + 1) * 100]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    for (name, a), b in zip(trained.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), name
