"""Judge a finished run against its project's challenge (no Qt).

A template may carry a goal in ``meta.challenge`` (see
:mod:`nnstudio.graph.challenge_schema` for the format).  After a run,
:func:`check` compares the run's reported metric with the bound and its limits
(parameters, seconds) and returns a :class:`Verdict` whose reasons read as one line::

    test accuracy 0.981 ≥ 0.98 ✓; 48,202 parameters ≤ 50,000 ✓; 41 s ≤ 120 s ✓
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from nnstudio.graph.challenge_schema import (
    Challenge,
    ChallengeError,
    challenge_of,
    parse_challenge,
)
from nnstudio.train.callbacks import TrainResult

__all__ = ["Challenge", "ChallengeError", "Verdict", "challenge_of", "check",
           "count_parameters", "describe_metric", "parse_challenge"]

YES, NO = "✓", "✗"
SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}
_OPS = {"at_least": ("≥", "<"), "at_most": ("≤", ">")}


@dataclass
class Verdict:
    """How a run measured up: ``achieved`` only if the metric and every limit pass.

    ``value`` is the metric's value (None when the run did not report it);
    ``reasons`` hold one short line per check, each ending in ✓ or ✗.
    """

    achieved: bool
    value: float | None
    reasons: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def describe_metric(challenge: Challenge) -> str:
    """"test accuracy", "validation loss", "test sequence accuracy"."""
    return f"{SPLIT_WORDS[challenge.split]} {challenge.metric.replace('_', ' ')}"


def count_parameters(model: nn.Module) -> int:
    """Every parameter of the model (frozen ones too: the network is that big)."""
    return sum(p.numel() for p in model.parameters())


def _pair(value: float, target: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (3 to 8) that tell them apart, so
    that 0.9799 is never shown as "0.98 < 0.98"."""
    for digits in range(3, 9):
        a, b = f"{value:.{digits}g}", f"{target:.{digits}g}"
        if a != b or value == target:
            return a, b
    return a, b


def _passes(value: float, op: str, target: float) -> bool:
    return value >= target if op == "at_least" else value <= target


def check(challenge: Challenge | Mapping[str, Any], result: TrainResult,
          parameters: int | None) -> Verdict:
    """Judge ``result`` (a run of a network with ``parameters`` parameters) against
    ``challenge`` (a :class:`Challenge` or the ``meta.challenge`` dict, which is checked
    first and raises :class:`ChallengeError` if malformed).

    A run that failed achieves nothing; a metric the run did not report (a split it
    has not got, a run stopped before testing) is a ✗ that says so.  ``parameters`` may
    be None only when the challenge sets no parameter limit.
    """
    if not isinstance(challenge, Challenge):
        challenge = parse_challenge(challenge)
    reasons: list[str] = []
    ok = True
    if result.stopped_reason == "error":
        return Verdict(False, None, [f"the run failed, so nothing was measured {NO}"])
    label = describe_metric(challenge)
    raw = result.metrics.get(challenge.split, {}).get(challenge.metric)
    value = None if raw is None else float(raw)
    if value is None:
        ok = False
        why = ("the run was stopped before the test split was evaluated"
               if result.stopped_reason == "stopped" and challenge.split == "test"
               else "this run did not report it")
        reasons.append(f"{label}: {why} {NO}")
    elif math.isnan(value):
        ok = False
        reasons.append(f"{label} is not a number (the run diverged) {NO}")
    else:
        passed = _passes(value, challenge.op, challenge.target)
        ok &= passed
        shown, target = _pair(value, challenge.target)
        sign = _OPS[challenge.op][0 if passed else 1]
        reasons.append(f"{label} {shown} {sign} {target} {YES if passed else NO}")
    if challenge.max_parameters is not None:
        if parameters is None:
            raise ValueError("the challenge limits parameters: pass the model's count")
        passed = parameters <= challenge.max_parameters
        ok &= passed
        reasons.append(f"{parameters:,} parameters {'≤' if passed else '>'} "
                       f"{challenge.max_parameters:,} {YES if passed else NO}")
    if challenge.max_seconds is not None:
        seconds = result.elapsed_s
        passed = seconds <= challenge.max_seconds
        ok &= passed
        reasons.append(f"{_seconds(seconds)} {'≤' if passed else '>'} "
                       f"{_seconds(challenge.max_seconds)} {YES if passed else NO}")
    return Verdict(ok, value, reasons)


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
