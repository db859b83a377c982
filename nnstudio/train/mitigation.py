"""Two ways to shrink a fairness gap: re-weighting before training, per-group
thresholds after it.

* :func:`reweighing_weights` (Kamiran & Calders, 2012): every training example gets the
  weight ``w(g, y) = P(g)·P(y) / P(g, y)``.  Under these weights the label is
  statistically independent of the group, so a model cannot lower its weighted loss
  by learning the group (or a proxy of it).  The weights average to 1 over the
  training split.  The classification recipe uses them when the training setting
  ``reweight`` is ``"group_label"``.
* :func:`choose_group_thresholds`: each group gets its own decision threshold on the
  model's score for the positive class, picked on the *validation* split so that the
  groups' selection rates (``"demographic_parity"``) or true-positive rates
  (``"equal_opportunity"``) are equal, at the common rate that gives the best
  validation accuracy.  The test split then measures what this costs and gains.

Pure numpy; group codes are the int64 codes a sensitive column keeps in Split.extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

OBJECTIVES = ("demographic_parity", "equal_opportunity")
# a threshold that selects nobody: scores are probabilities, so never above 1
NOBODY = 1.0 + 1e-6


def joint_groups(columns: list[np.ndarray]) -> np.ndarray:
    """One int64 code per example for the combination of several sensitive columns
    (the intersection of groups); one column passes through unchanged."""
    if not columns:
        raise ValueError("no sensitive column given")
    if len(columns) == 1:
        return np.asarray(columns[0], dtype=np.int64).reshape(-1)
    stacked = np.stack([np.asarray(c, dtype=np.int64).reshape(-1) for c in columns], axis=1)
    _, codes = np.unique(stacked, axis=0, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def reweighing_weights(groups: Any, y: Any) -> np.ndarray:
    """Kamiran & Calders weights ``P(g)·P(y) / P(g, y)`` = ``n_g·n_y / (n·n_gy)``, one
    per example, as float32.  They sum to the number of examples."""
    g = np.asarray(groups, dtype=np.int64).reshape(-1)
    t = np.asarray(y, dtype=np.int64).reshape(-1)
    if len(g) != len(t):
        raise ValueError(f"{len(g)} group codes for {len(t)} labels")
    n = len(t)
    if n == 0:
        return np.zeros(0, np.float32)
    _, gi, n_g = np.unique(g, return_inverse=True, return_counts=True)
    _, yi, n_y = np.unique(t, return_inverse=True, return_counts=True)
    cell = gi.reshape(-1) * len(n_y) + yi.reshape(-1)
    n_gy = np.bincount(cell, minlength=len(n_g) * len(n_y))
    w = n_g[gi.reshape(-1)] * n_y[yi.reshape(-1)] / (n * n_gy[cell])
    return w.astype(np.float32)


@dataclass(frozen=True)
class GroupThresholds:
    """Decision thresholds per group code, and how they were chosen."""

    thresholds: dict[int, float]  # group code -> threshold on the positive-class score
    objective: str
    rate: float  # the common selection rate (or TPR) the groups were brought to
    val_accuracy: float  # accuracy on the validation split with these thresholds

    def apply(self, scores: Any, groups: Any, default: float = 0.5) -> np.ndarray:
        """Decisions (int64 0/1): ``score >= threshold of the example's group``; a
        group unseen in validation keeps ``default``."""
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        g = np.asarray(groups, dtype=np.int64).reshape(-1)
        cut = np.array([self.thresholds.get(int(c), default) for c in g], dtype=np.float64)
        return (s >= cut).astype(np.int64)


def _threshold_for(sorted_desc: np.ndarray, k: int) -> float:
    """The threshold that selects the ``k`` highest scores (ties may add a few)."""
    if k <= 0 or len(sorted_desc) == 0:
        return NOBODY
    return float(sorted_desc[min(k, len(sorted_desc)) - 1])


def choose_group_thresholds(scores: Any, y: Any, groups: Any,
                            objective: str = "demographic_parity",
                            steps: int = 201) -> GroupThresholds:
    """Per-group thresholds that equalise ``objective`` across groups on this (validation)
    data, at the common rate in ``steps`` even steps of [0, 1] with the best accuracy.

    ``scores`` are probabilities of the positive class (label 1), ``y`` true labels 0/1,
    ``groups`` int codes.  "demographic_parity" gives each group the same share of
    positive decisions; "equal_opportunity" the same share among its true positives.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    t = np.asarray(y, dtype=np.int64).reshape(-1)
    g = np.asarray(groups, dtype=np.int64).reshape(-1)
    if not (len(s) == len(t) == len(g)) or len(s) == 0:
        raise ValueError("scores, labels and groups must be non-empty and of equal length")
    codes = [int(c) for c in np.unique(g)]
    ranked = {}
    for c in codes:
        m = g == c
        pool = s[m & (t == 1)] if objective == "equal_opportunity" else s[m]
        ranked[c] = np.sort(pool)[::-1]
    best: GroupThresholds | None = None
    for rate in np.linspace(0.0, 1.0, steps):
        cuts = {c: _threshold_for(ranked[c], round(rate * len(ranked[c]))) for c in codes}
        candidate = GroupThresholds(cuts, objective, float(rate), 0.0)
        acc = float(np.mean(candidate.apply(s, g) == t))
        if best is None or acc > best.val_accuracy + 1e-12:
            best = GroupThresholds(cuts, objective, float(rate), acc)
    assert best is not None
    return best
