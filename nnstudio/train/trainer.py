"""The trainer: fits any ``nn.Module`` to a :class:`~nnstudio.data.base.DatasetSplits`.

Data sets in nnstudio live in memory, so the trainer moves them to the device
once and forms batches by indexing with a fresh permutation each epoch; no
DataLoader, no worker processes, no per-batch copies.

The hot loop does per step: one Event check, the recipe's train step, and one
``detach`` appended to a list.  Losses are read back (a device sync) only when
a report is due (``report_every_s``, default 20 Hz) or an epoch ends; that
read-back is also where a NaN/inf loss is caught and pinned to its exact step.
"""

from __future__ import annotations

import hashlib
import math
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.activations import ActivationProbe
from nnstudio.train.allocator import give_back_memory, keep_freed_memory
from nnstudio.train.batches import Batches, PlacedSplit
from nnstudio.train.callbacks import (
    Callback,
    CallbackList,
    EpochInfo,
    EvalInfo,
    RunInfo,
    StepInfo,
    TrainResult,
)
from nnstudio.train.checkpoint import check_resumable, load_checkpoint, save_checkpoint
from nnstudio.train.config import TrainConfig, select_device
from nnstudio.train.control import RunControl
from nnstudio.train.early_stopping import BestTracker
from nnstudio.train.errors import (
    CheckpointError,
    ConfigError,
    TrainingError,
    forward_failure,
    is_out_of_memory,
    out_of_memory,
)
from nnstudio.train.optim import build_scheduler
from nnstudio.train.preview import PROBE_SIZE, PreviewProbe
from nnstudio.train.recipes import Evaluation, Recipe, create_recipe

if TYPE_CHECKING:
    from nnstudio.data.base import DatasetSplits

def forget_traceback(exc: BaseException | None) -> None:
    """Drop the frames a caught exception (and those it chains) keeps alive.

    A failed step's traceback holds the trainer's frames and the model's forward, which
    refer back to the exception: a reference cycle that only the cyclic collector frees,
    later, on whichever thread it happens to run — and with it the last references to
    objects of the thread that ran the training.  Clearing the frames' locals now frees
    them here, at once.  The message (``str(exc)``) is unaffected.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if exc.__traceback__ is not None:
            traceback.clear_frames(exc.__traceback__)
            exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__


def _derived_seed(seed: int, epoch: int, stream: str) -> int:
    """An independent seed per (run seed, epoch, purpose): epoch k of a resumed run
    shuffles and draws dropout masks exactly as epoch k of an uninterrupted one."""
    digest = hashlib.blake2b(f"{seed}:{epoch}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


class Trainer:
    """Train ``model`` on ``splits`` as ``config`` says, reporting to ``callbacks``.

    ``control`` pauses/stops the run from another thread (one is made if None).
    ``resume_from`` continues a checkpoint at its next epoch; ``checkpoint_dir`` gets
    ``last.pt`` after every epoch and ``best.pt`` at each new best, both atomic.
    ``report_every_s`` bounds how often ``on_step`` runs (0 = after every step);
    ``preview_every_s`` how often the recipe's live pictures are drawn (``on_preview``).
    """

    def __init__(
        self,
        model: nn.Module,
        splits: DatasetSplits,
        config: TrainConfig,
        callbacks: tuple[Callback, ...] | list[Callback] = (),
        control: RunControl | None = None,
        *,
        resume_from: str | Path | None = None,
        checkpoint_dir: str | Path | None = None,
        report_every_s: float = 0.05,
        preview_every_s: float = 1.0,
    ) -> None:
        self.model = model
        self.splits = splits
        self.config = config
        self.callbacks = CallbackList(callbacks)
        self.control = control if control is not None else RunControl()
        self.resume_from = resume_from
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        if not report_every_s >= 0:
            raise ValueError(f"report_every_s must be 0 or more, not {report_every_s!r}")
        self.report_every_s = report_every_s
        if not preview_every_s > 0:
            raise ValueError(f"preview_every_s must be more than 0, not {preview_every_s!r}")
        self.preview_every_s = preview_every_s
        self.global_step = 0
        self._started = False
        self.history: list[dict[str, float]] = []
        self._probe: ActivationProbe | None = None
        self._live: PreviewProbe | None = None
        self._batches: Batches | None = None

    # ================================================================= the run
    def fit(self) -> TrainResult:
        """Train to the end (or stop, early stop, error) and return what happened.

        Problems of the run (bad model output, NaN loss, failing forward, out of
        memory, unusable device or checkpoint) end it with ``stopped_reason="error"``
        and a readable message instead of an exception; ``on_train_end`` always runs.
        A Trainer runs once; make a new one (with ``resume_from``) to go on.
        """
        if self._started:
            raise RuntimeError("this Trainer has already run; create a new one to train again")
        self._started = True
        keep_freed_memory()  # no page-fault churn from the steps' large tensors
        self._t0 = time.perf_counter()
        self._paused_s = 0.0
        self._epoch = self.start_epoch = 1
        try:
            self._setup()
            reason = self._run_epochs()
            result = self._finish(reason)
        except (TrainingError, ConfigError, CheckpointError) as exc:
            result = self._result("error", str(exc))
            forget_traceback(exc)
        finally:
            if self._probe is not None:
                self._probe.close()
            self._batches = None  # a batch's worth of memory (on the device) goes back
        self.callbacks.on_train_end(result)
        give_back_memory()
        return result

    def _setup(self) -> None:
        c = self.config
        self.device = select_device(c.device)
        self.recipe = create_recipe(c, self.splits.info)
        self.model.to(self.device)
        self.train, self.val, self.test = (self._place(getattr(self.splits, s), s)
                                           for s in ("train", "val", "test"))
        if (n := len(self.train)) == 0:
            raise TrainingError("The training split is empty; there is nothing to train on.")
        self.recipe.setup(self.train, self.splits)
        weights = self.recipe.example_weights(self.splits)
        if weights is not None:
            self.train.w = weights.to(self.device, torch.float32).reshape(-1)
        self._check_model()
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise TrainingError("The model has no trainable parameters (all are frozen).")
        bs = c.batch_size
        self._batches = Batches(self.train, bs)
        # a last batch of one example is dropped: BatchNorm cannot train on it
        self.steps_per_epoch = max(1, n // bs + (1 if n % bs > 1 else 0))
        self.total_steps = c.epochs * self.steps_per_epoch
        self.optimizer = self.recipe.build_optimizer(self.model, params)
        self.scheduler, self._sched_per_batch = build_scheduler(self.optimizer, c, self.steps_per_epoch)
        # without a validation split, the training loss is all there is to follow
        metric, mode = (c.monitor_metric, c.monitor_direction) if len(self.val) else ("train_loss", "min")
        self.tracker = BestTracker(metric, mode, c.early_stopping_patience,
                                   keep_weights=c.early_stopping_patience > 0)
        self._last_val: dict[str, float] = {}
        self._train_loss = float("nan")
        self._train_parts: dict[str, float] = {}  # the recipe's own training values
        if self.resume_from is not None:
            self._resume(self.resume_from)
        self._start_step = self.global_step
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if c.activations.enabled and self.callbacks.wants("on_activations"):
            a, probe_src = c.activations, self.val if len(self.val) else self.train
            self._probe = ActivationProbe(self.model, probe_src.x[: a.probe_size], a.bins,
                                          a.max_channels, a.max_rate_hz)
        if self.callbacks.wants("on_preview") and type(self.recipe).preview is not Recipe.preview:
            src = self.val if len(self.val) else self.train
            self._live = PreviewProbe(self.model, PlacedSplit(src.x[:PROBE_SIZE], src.y[:PROBE_SIZE]),
                                      self.recipe.preview, 1.0 / self.preview_every_s)
        self.callbacks.on_train_start(RunInfo(
            self.total_steps, self.steps_per_epoch, c.epochs, self.start_epoch, str(self.device),
            sum(p.numel() for p in self.model.parameters()), sum(p.numel() for p in params),
            c.to_dict()))

    def _place(self, split: Any, name: str) -> PlacedSplit:
        try:
            return PlacedSplit(split.x.to(self.device), self.recipe.prepare_targets(split.y).to(self.device))
        except RuntimeError as exc:
            if is_out_of_memory(exc):
                raise TrainingError(f"The {name} split does not fit in {self.device.type} memory; "
                                    "train on the CPU or use a smaller data set.") from exc
            raise

    def _check_model(self) -> None:
        """Run two examples through the model and let the recipe judge the output."""
        try:
            with torch.random.fork_rng(devices=[]), eval_mode(self.model), torch.no_grad():
                sample = self.recipe.sample_output(self.model, self.train.x[:2])
        except TrainingError:
            raise
        except Exception as exc:  # the model is the person's drawing: any failure is theirs
            raise forward_failure(exc, self.model, "on a first check batch, before training,") from exc
        problems = self.recipe.prepare(self.model, sample)
        if problems:
            raise TrainingError(f"The model does not fit the {self.config.recipe} task: "
                                + "; ".join(problems))

    def _run_epochs(self) -> str:
        c = self.config
        for epoch in range(self.start_epoch, c.epochs + 1):
            self._epoch = epoch
            torch.manual_seed(_derived_seed(c.seed, epoch, "torch"))
            self.recipe.start_epoch(epoch, self.steps_per_epoch)
            if self._train_epoch(epoch) == "stopped":
                return "stopped"
            self._train_parts = self.recipe.end_epoch()
            lr = self._last_lr  # the one used by the epoch's last step
            val: dict[str, float] = {}
            if len(self.val) and (epoch % c.eval_every == 0 or epoch == c.epochs):
                val = self._last_val = self._evaluate("val", self.val, epoch).metrics
            if self.scheduler is not None and not self._sched_per_batch:
                self.scheduler.step()
            self.history.append({"epoch": epoch, "train_loss": self._train_loss, "lr": lr,
                                 **self._train_parts,
                                 **{f"val_{k}": v for k, v in val.items()}})
            watched = val.get(self.tracker.metric) if len(self.val) else self._train_loss
            improved = watched is not None and self.tracker.update(watched, epoch, self.model)
            self._save_checkpoints(epoch, improved)
            self.callbacks.on_epoch_end(EpochInfo(epoch, self._train_loss, val, lr, self._elapsed()))
            if self.tracker.should_stop:
                return "early_stopping"
        return "completed"

    def _train_epoch(self, epoch: int) -> str | None:
        """One pass over the training split; "stopped" if the control stopped it."""
        gen = torch.Generator().manual_seed(_derived_seed(self.config.seed, epoch, "shuffle"))
        perm = torch.randperm(len(self.train), generator=gen).to(self.device)
        # everything the loop touches is a local: attribute lookups cost per step
        bs, take = self.config.batch_size, self._batches.take
        model, opt, train_step = self.model, self.optimizer, self.recipe.train_step
        sched = self.scheduler if self._sched_per_batch else None
        control, every, clock = self.control, self.report_every_s, time.perf_counter
        losses: list[torch.Tensor] = []
        keep = losses.append
        self._losses = losses
        self._loss_sum, self._loss_count = 0.0, 0
        first = self.global_step  # global step before this epoch's first batch
        self._mark = (clock(), first)
        next_report = self._mark[0] + every
        last = self.steps_per_epoch - 1
        model.train()
        for b in range(self.steps_per_epoch):
            if control.should_check():
                self.global_step = first + b
                self._report(epoch, b)  # show where it halted before parking
                if not self._wait_if_paused():
                    return "stopped"
                next_report = clock() + every
            idx = perm[b * bs:(b + 1) * bs]
            try:
                loss = train_step(model, take(idx), opt)
            except Exception as exc:  # the model is the person's drawing: any failure is theirs
                self.global_step = first + b
                raise self._step_failure(exc, epoch, b) from exc
            keep(loss.detach())
            # report before the scheduler moves on, so the lr shown is the one just used
            if b == last or clock() >= next_report:
                self.global_step = first + b + 1
                self._report(epoch, b + 1)
                next_report = clock() + every
            if sched is not None:
                sched.step()
        self._train_loss = self._loss_sum / max(1, self._loss_count)
        return None

    def _wait_if_paused(self) -> bool:
        start = time.perf_counter()
        go_on = self.control.wait_while_paused()
        self._paused_s += time.perf_counter() - start
        self._mark = (time.perf_counter(), self.global_step)
        return go_on

    def _step_failure(self, exc: Exception, epoch: int, batch: int) -> TrainingError:
        where = f"at step {self.global_step + 1} (epoch {epoch}, batch {batch + 1})"
        if is_out_of_memory(exc):
            self.optimizer.zero_grad(set_to_none=True)  # give the memory back before reporting
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            return out_of_memory(where, self.config.batch_size, self.device)
        return forward_failure(exc, self.model, where)

    # ============================================================== reporting
    def _report(self, epoch: int, step: int) -> None:
        """Read back the losses since the last report (one sync), check them, tell callbacks."""
        if not self._losses:
            return
        values = torch.stack(self._losses).tolist()
        self._losses.clear()
        total = sum(values)
        if not math.isfinite(total):
            bad = next(i for i, v in enumerate(values) if not math.isfinite(v))
            back = len(values) - bad
            lr = self.optimizer.param_groups[0]["lr"]
            raise TrainingError(
                f"The loss became {values[bad]} at step {self.global_step - back + 1} (epoch {epoch}, "
                f"batch {step - back + 1}). The learning rate ({lr:.3g}) is probably too high: "
                "try lowering it (e.g. by 10×) or turning on gradient clipping.")
        self._loss_sum += total
        self._loss_count += len(values)
        self._last_lr = self.optimizer.param_groups[0]["lr"]
        now = time.perf_counter()
        if self.callbacks.wants("on_step"):
            done = self.global_step - self._start_step
            elapsed = self._elapsed()
            eta = elapsed / done * (self.total_steps - self.global_step) if done else 0.0
            span = max(now - self._mark[0], 1e-9)
            rate = (self.global_step - self._mark[1]) * self.config.batch_size / span
            self.callbacks.on_step(StepInfo(
                epoch, step, self.global_step, self.total_steps, total / len(values),
                self._last_lr, elapsed, eta, rate))
        self._mark = (now, self.global_step)
        if self._probe is not None:
            try:
                snap = self._probe.maybe_capture(self.global_step, epoch)
            except Exception as exc:  # same model code as training: report it the same way
                raise forward_failure(exc, self.model, "while capturing activations") from exc
            if snap is not None:
                self.callbacks.on_activations(snap)
                self._probe.booked()  # the pictures made from it count as its cost
        self._show_live(epoch)

    def _show_live(self, epoch: int, *, force: bool = False) -> None:
        if self._live is None:
            return
        try:
            previews = self._live.maybe_capture(self.global_step, epoch, force=force)
        except Exception as exc:  # same model code as training: report it the same way
            raise forward_failure(exc, self.model, "while drawing the live view") from exc
        if previews:
            self.callbacks.on_preview(previews)

    def _evaluate(self, name: str, split: PlacedSplit, epoch: int) -> Evaluation:
        bs = 2 * self.config.batch_size  # no gradients kept: twice the batch fits
        try:
            ev = self.recipe.evaluate(self.model, split, bs)
        except Exception as exc:  # the model is the person's drawing: any failure is theirs
            if is_out_of_memory(exc):
                raise out_of_memory(f"while evaluating the {name} split", bs, self.device) from exc
            raise forward_failure(exc, self.model, f"while evaluating the {name} split") from exc
        if self.callbacks.wants("on_evaluate"):
            self.callbacks.on_evaluate(EvalInfo(name, epoch, ev.metrics, ev.confusion, ev.per_class,
                                                tuple(self.splits.info.classes)))
        return ev

    def _elapsed(self) -> float:
        return time.perf_counter() - self._t0 - self._paused_s

    # ================================================================ the end
    def _finish(self, reason: str) -> TrainResult:
        t = self.tracker
        restored = reason == "early_stopping" and t.best_state is not None
        if restored:
            self.model.load_state_dict(t.best_state)
        metrics: dict[str, dict[str, float]] = {"train": {"loss": self._train_loss,
                                                          **self._train_parts}}
        if reason == "stopped":  # the person wants it to end now: no further evaluation
            if self._last_val:
                metrics["val"] = self._last_val
            return self._result(reason, f"Stopped by request at epoch {self._epoch}, "
                                f"step {self.global_step}.", metrics, restored)
        if len(self.val):
            metrics["val"] = (self._evaluate("val", self.val, self._epoch).metrics
                              if restored or not self._last_val else self._last_val)
        if len(self.test):
            metrics["test"] = self._evaluate("test", self.test, self._epoch).metrics
        self._show_live(self._epoch, force=True)  # the picture of the model as it ends
        if reason == "early_stopping":
            watched = f"validation {t.metric}" if len(self.val) else "the training loss"
            message = (f"Early stopping after epoch {self._epoch}: {watched} did not "
                       f"improve for {t.patience} evaluations; ")
            message += (f"restored the weights of epoch {t.best_epoch} ({t.metric} "
                        f"{t.best_value:.4g})." if restored else "it never had a finite value.")
        else:
            n = self.config.epochs
            message = f"Completed {n} epoch{'' if n == 1 else 's'}."
        return self._result(reason, message, metrics, restored)

    def _result(self, reason: str, message: str, metrics: dict | None = None,
                restored: bool = False) -> TrainResult:
        tracker = getattr(self, "tracker", None)
        return TrainResult(
            reason, message, metrics or {}, list(self.history),
            tracker.best_epoch if tracker else None, tracker.best_value if tracker else None,
            tracker.metric if tracker else self.config.monitor_metric, restored,
            len(self.history), self.global_step, self._elapsed())

    # ============================================================ checkpoints
    def _save_checkpoints(self, epoch: int, improved: bool) -> None:
        if self.checkpoint_dir is None:
            return
        extra = {"history": self.history, "tracker": self.tracker.state_dict(),
                 "global_step": self.global_step, "last_val": self._last_val}
        args = (self.model, self.optimizer, self.scheduler, epoch, self.config,
                {"train_loss": self._train_loss, "val": self._last_val}, extra)
        save_checkpoint(self.checkpoint_dir / "last.pt", *args)
        if improved:
            save_checkpoint(self.checkpoint_dir / "best.pt", *args)

    def _resume(self, path: str | Path) -> None:
        ckpt = load_checkpoint(path, map_location=self.device)
        check_resumable(ckpt, self.config, path)
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.scheduler is not None and ckpt["scheduler"] is not None:
                self.scheduler.load_state_dict(ckpt["scheduler"])
        except (RuntimeError, ValueError, KeyError) as exc:  # load_state_dict's ways to refuse
            raise CheckpointError(f"Cannot resume from {path}: it was saved from another "
                                  f"model ({exc})") from exc
        extra = ckpt["extra"]
        self.history = list(extra.get("history", []))
        if "tracker" in extra:
            self.tracker.load_state_dict(extra["tracker"])
        self.global_step = int(extra.get("global_step", ckpt["epoch"] * self.steps_per_epoch))
        self._last_val = dict(extra.get("last_val", {}))
        self._train_loss = float(ckpt["metrics"].get("train_loss", float("nan")))
        self.start_epoch = self._epoch = ckpt["epoch"] + 1
