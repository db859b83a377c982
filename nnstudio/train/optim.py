"""Optimizers and learning-rate schedules from a :class:`TrainConfig`."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim import lr_scheduler

from nnstudio.train.config import TrainConfig


def build_optimizer(params: Iterable[torch.nn.Parameter], config: TrainConfig, *,
                    lr: float | None = None,
                    betas: tuple[float, float] | None = None) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` over ``params`` with the config's lr etc.

    ``lr`` replaces the config's learning rate (a GAN's discriminator may have its
    own); ``betas`` replaces Adam's default (0.9, 0.999) for adam and adamw.
    """
    params = list(params)
    c = config
    lr = c.lr if lr is None else lr
    betas = (0.9, 0.999) if betas is None else betas
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=c.momentum, nesterov=c.nesterov,
                               weight_decay=c.weight_decay)
    if c.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=c.weight_decay)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=c.weight_decay)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=c.momentum, weight_decay=c.weight_decay)
    raise AssertionError(f"TrainConfig let through optimizer {c.optimizer!r}")


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> tuple[lr_scheduler.LRScheduler | None, bool]:
    """The schedule named by ``config.schedule``, and whether it steps per batch.

    "step" multiplies the lr by ``gamma`` every ``step_size`` epochs; "cosine" anneals
    it to 0 over all epochs; "onecycle" warms up to ``lr`` then anneals, stepping
    after every batch.  Returns (None, False) for "none".
    """
    c = config
    if c.schedule == "none":
        return None, False
    if c.schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=c.step_size, gamma=c.gamma), False
    if c.schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=c.epochs), False
    if c.schedule == "onecycle":
        # cycling momentum would switch momentum *on* for a plain SGD or RMSprop run
        cycle = c.optimizer in ("adam", "adamw") or c.momentum > 0
        # each group peaks at its own starting lr (a GAN's discriminator may have its own)
        peaks = [group["lr"] for group in optimizer.param_groups]
        sched = lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=c.epochs * steps_per_epoch,
                                        cycle_momentum=cycle)
        return sched, True
    raise AssertionError(f"TrainConfig let through schedule {c.schedule!r}")
