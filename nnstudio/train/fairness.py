"""Fairness metrics: how a classifier's decisions differ between groups of people.

Every function takes plain arrays (numpy, or anything ``np.asarray`` reads: lists,
CPU tensors): true labels, predicted labels, and the group of each example as an
integer code (the codes a sensitive column keeps in ``Split.extra``).  Nothing here
imports Qt or needs a model, so the window, the command line, the model card and the
tests all compute the same numbers.

The definitions are fairlearn's (``fairlearn.metrics``), so the numbers agree with any
tutorial that uses it:

* selection rate: the share of examples predicted positive;
* true-positive rate (TPR): the share of truly positive examples predicted positive,
  0 for a group without positives (as fairlearn, via scikit-learn's normalised
  confusion matrix);
* false-positive rate (FPR): the share of truly negative examples predicted positive;
* demographic-parity difference: the largest minus the smallest selection rate over
  the groups; demographic-parity ratio: the smallest divided by the largest;
* equalised-odds difference: the larger of the TPR difference and the FPR difference
  (fairlearn's ``agg="worst_case"``); equalised-odds ratio: the smaller of the TPR and
  FPR ratios.

Only the groups present in the arrays count.  A ratio whose largest rate is 0 (no
group selected at all) is 1.0 here, where fairlearn gives NaN: every group is treated
the same, and a NaN cannot travel in a JSON run record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnstudio.train.fairness_regression import (
    REGRESSION_DEFINITIONS,
    format_regression_table,
    is_regression,
)

# One hover away in the window, beside the gaps in the CLI table, in the model card.
DEFINITIONS: dict[str, str] = {
    "accuracy": "Accuracy: the share of the group's examples whose predicted label is right.",
    "tpr": "True-positive rate (TPR, recall): of the group's truly positive examples, "
           "the share the model predicts positive. A low TPR means deserving people "
           "are turned down.",
    "fpr": "False-positive rate (FPR): of the group's truly negative examples, the share "
           "the model predicts positive.",
    "selection_rate": "Selection rate: the share of the group's examples the model "
                      "predicts positive (approved, hired), whatever their true label.",
    "calibration": "Calibration: among examples given a score near p, the share that is "
                   "truly positive should be near p, in every group. A curve below the "
                   "diagonal means the scores promise more than the group receives.",
    "confusion": "Confusion matrix of the group: rows are the true label, columns the "
                 "predicted one; the diagonal holds the correct decisions.",
    "dp_difference": "Demographic-parity difference: the largest selection rate of any "
                     "group minus the smallest. 0 means every group is selected at the "
                     "same rate (fairlearn's demographic_parity_difference).",
    "dp_ratio": "Demographic-parity ratio: the smallest selection rate divided by the "
                "largest. 1 means parity; below 0.8 fails the 'four-fifths rule' of "
                "thumb (fairlearn's demographic_parity_ratio).",
    "eo_difference": "Equalised-odds difference: the larger of the gap in true-positive "
                     "rates and the gap in false-positive rates between groups. 0 means "
                     "the model errs at the same rates for everyone, given the true label "
                     "(fairlearn's equalized_odds_difference).",
    "eo_ratio": "Equalised-odds ratio: the smaller of the TPR ratio and the FPR ratio "
                "(smallest over largest). 1 means equal odds (fairlearn's "
                "equalized_odds_ratio).",
    "tpr_difference": "True-positive-rate difference (equal opportunity): the largest TPR "
                      "of any group minus the smallest.",
    "fpr_difference": "False-positive-rate difference: the largest FPR of any group minus "
                      "the smallest.",
    "accuracy_difference": "Accuracy difference: the best group's accuracy minus the "
                           "worst group's.",
    "reweight": "Re-weighting (Kamiran & Calders): each training example counts with "
                "weight P(group)·P(label) / P(group, label), so that in the weighted data "
                "the label no longer depends on the group.",
    "thresholds": "Per-group thresholds: each group gets its own decision threshold on "
                  "the model's score, chosen on the validation split so that the groups' "
                  "selection rates are equal while accuracy stays as high as it can.",
    **REGRESSION_DEFINITIONS,  # per-group errors of a regression model
}

# The gaps a report carries, in the order tables show them.
GAP_NAMES = ("dp_difference", "dp_ratio", "eo_difference", "eo_ratio", "tpr_difference",
             "fpr_difference", "accuracy_difference")
GAP_TITLES = {
    "dp_difference": "demographic-parity difference",
    "dp_ratio": "demographic-parity ratio",
    "eo_difference": "equalised-odds difference",
    "eo_ratio": "equalised-odds ratio",
    "tpr_difference": "TPR difference",
    "fpr_difference": "FPR difference",
    "accuracy_difference": "accuracy difference",
}


# ----------------------------------------------------------------- single rates
def _arrays(*values: Any) -> list[np.ndarray]:
    out = [np.asarray(v).reshape(-1) for v in values]
    n = {len(v) for v in out}
    if len(n) > 1:
        raise ValueError(f"arrays of different lengths: {[len(v) for v in out]}")
    return out


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def selection_rate(y_pred: Any, positive: int = 1) -> float:
    """Share of ``y_pred`` equal to ``positive`` (0.0 for no examples)."""
    (p,) = _arrays(y_pred)
    return _ratio(np.count_nonzero(p == positive), len(p))


def true_positive_rate(y_true: Any, y_pred: Any, positive: int = 1) -> float:
    """TP / (TP + FN); 0.0 when there is no true positive (as fairlearn)."""
    t, p = _arrays(y_true, y_pred)
    pos = t == positive
    return _ratio(np.count_nonzero(p[pos] == positive), np.count_nonzero(pos))


def false_positive_rate(y_true: Any, y_pred: Any, positive: int = 1) -> float:
    """FP / (FP + TN); 0.0 when there is no true negative (as fairlearn)."""
    t, p = _arrays(y_true, y_pred)
    neg = t != positive
    return _ratio(np.count_nonzero(p[neg] == positive), np.count_nonzero(neg))


def accuracy(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred)
    return _ratio(np.count_nonzero(t == p), len(t))


# ------------------------------------------------------------------- by group
def group_codes(groups: Any) -> np.ndarray:
    """The distinct group codes present, sorted."""
    return np.unique(np.asarray(groups).reshape(-1))


def by_group(metric, y_true: Any, y_pred: Any, groups: Any, **kwargs: Any) -> dict[int, float]:
    """``metric(y_true_g, y_pred_g, **kwargs)`` for each group code present."""
    t, p, g = _arrays(y_true, y_pred, groups)
    return {int(c): float(metric(t[g == c], p[g == c], **kwargs)) for c in group_codes(g)}


def _spread(values: dict[int, float]) -> tuple[float, float]:
    """(largest − smallest, smallest / largest) of per-group values."""
    if not values:
        return 0.0, 1.0
    lo, hi = min(values.values()), max(values.values())
    return hi - lo, (lo / hi if hi > 0 else 1.0)


def _selection(y_true: Any, y_pred: Any, positive: int = 1) -> float:
    return selection_rate(y_pred, positive)


def demographic_parity_difference(y_true: Any, y_pred: Any, *, sensitive_features: Any,
                                  positive: int = 1) -> float:
    """Largest minus smallest selection rate over the groups (fairlearn's definition;
    ``y_true`` is unused, as there, and kept for the same signature)."""
    return _spread(by_group(_selection, y_true, y_pred, sensitive_features,
                            positive=positive))[0]


def demographic_parity_ratio(y_true: Any, y_pred: Any, *, sensitive_features: Any,
                             positive: int = 1) -> float:
    """Smallest over largest selection rate (1.0 when no group is selected)."""
    return _spread(by_group(_selection, y_true, y_pred, sensitive_features,
                            positive=positive))[1]


def equalized_odds_difference(y_true: Any, y_pred: Any, *, sensitive_features: Any,
                              positive: int = 1) -> float:
    """max(TPR difference, FPR difference) over the groups (fairlearn's worst case)."""
    tpr = by_group(true_positive_rate, y_true, y_pred, sensitive_features, positive=positive)
    fpr = by_group(false_positive_rate, y_true, y_pred, sensitive_features, positive=positive)
    return max(_spread(tpr)[0], _spread(fpr)[0])


def equalized_odds_ratio(y_true: Any, y_pred: Any, *, sensitive_features: Any,
                         positive: int = 1) -> float:
    """min(TPR ratio, FPR ratio) over the groups (fairlearn's worst case)."""
    tpr = by_group(true_positive_rate, y_true, y_pred, sensitive_features, positive=positive)
    fpr = by_group(false_positive_rate, y_true, y_pred, sensitive_features, positive=positive)
    return min(_spread(tpr)[1], _spread(fpr)[1])


def confusion(y_true: Any, y_pred: Any, n_classes: int) -> list[list[int]]:
    """``n_classes`` × ``n_classes`` counts: row = true class, column = predicted."""
    t, p = _arrays(y_true, y_pred)
    flat = np.bincount(t.astype(np.int64) * n_classes + p.astype(np.int64),
                       minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).tolist()


def calibration_curve(y_true: Any, scores: Any, bins: int = 10,
                      positive: int = 1) -> list[dict[str, float]]:
    """Reliability of ``scores`` (probabilities of ``positive``) in ``bins`` equal bins
    of [0, 1]: for each non-empty bin, the mean score, the observed positive share and
    the count."""
    t, s = _arrays(y_true, scores)
    s = s.astype(np.float64)
    index = np.clip((s * bins).astype(np.int64), 0, bins - 1)
    out = []
    for b in range(bins):
        m = index == b
        n = int(np.count_nonzero(m))
        if n:
            out.append({"score": float(s[m].mean()),
                        "observed": float(np.count_nonzero(t[m] == positive)) / n, "n": n})
    return out


def calibration_error(curve: Sequence[dict[str, float]]) -> float:
    """Expected calibration error: the count-weighted mean |observed − score| of a curve."""
    total = sum(b["n"] for b in curve)
    if not total:
        return 0.0
    return sum(b["n"] * abs(b["observed"] - b["score"]) for b in curve) / total


# ---------------------------------------------------------------------- report
@dataclass
class GroupRow:
    """One group's figures on one split."""

    code: int
    name: str
    n: int
    base_rate: float  # share truly positive
    accuracy: float
    tpr: float
    fpr: float
    selection_rate: float
    confusion: list[list[int]]
    calibration: list[dict[str, float]] = field(default_factory=list)
    calibration_error: float = 0.0


@dataclass
class FairnessReport:
    """Per-group figures and the gaps between groups for one sensitive column.

    ``positive`` is the index of the class counted as "selected" (``classes[positive]``).
    ``label`` says which decisions these are ("as trained", "per-group thresholds").
    """

    column: str
    split: str
    classes: tuple[str, ...]
    positive: int
    groups: list[GroupRow]
    gaps: dict[str, float]
    overall: dict[str, float]  # accuracy, selection_rate, tpr, fpr over all examples
    label: str = "as trained"
    thresholds: dict[str, float] = field(default_factory=dict)  # group name -> threshold

    @property
    def positive_name(self) -> str:
        return self.classes[self.positive] if self.positive < len(self.classes) else str(
            self.positive)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "column": self.column, "split": self.split, "classes": list(self.classes),
            "positive": self.positive, "label": self.label,
            "groups": [dict(vars(g)) for g in self.groups],
            "gaps": dict(self.gaps), "overall": dict(self.overall),
            "thresholds": dict(self.thresholds),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FairnessReport:
        """The inverse of :meth:`to_dict` (for a run folder's fairness.json)."""
        groups = [GroupRow(**{k: v for k, v in g.items()
                              if k in GroupRow.__dataclass_fields__})
                  for g in data.get("groups", [])]
        return cls(str(data["column"]), str(data.get("split", "test")),
                   tuple(data.get("classes", ())), int(data.get("positive", 1)), groups,
                   {k: float(v) for k, v in data.get("gaps", {}).items()},
                   {k: float(v) for k, v in data.get("overall", {}).items()},
                   str(data.get("label", "as trained")),
                   {str(k): float(v) for k, v in data.get("thresholds", {}).items()})


def fairness_report(y_true: Any, y_pred: Any, groups: Any, *, column: str,
                    group_names: Sequence[str] = (), classes: Sequence[str] = (),
                    scores: Any = None, positive: int | None = None, split: str = "test",
                    label: str = "as trained", bins: int = 10) -> FairnessReport:
    """Every per-group figure and gap for labels ``y_true``, decisions ``y_pred`` and
    group codes ``groups`` (int, indexing ``group_names``).

    ``scores`` (probability of the positive class, optional) adds calibration by group.
    ``positive`` defaults to the last class (class 1 of a binary task).
    """
    t, p, g = _arrays(y_true, y_pred, groups)
    t, p, g = t.astype(np.int64), p.astype(np.int64), g.astype(np.int64)
    n_classes = max(len(classes), int(max(t.max(initial=0), p.max(initial=0))) + 1, 2)
    classes = tuple(classes) or tuple(str(i) for i in range(n_classes))
    positive = n_classes - 1 if positive is None else positive
    s = None if scores is None else _arrays(scores)[0].astype(np.float64)
    if s is not None and len(s) != len(t):
        raise ValueError(f"scores has {len(s)} values for {len(t)} examples")
    rows = []
    for code in group_codes(g):
        m = g == code
        tg, pg = t[m], p[m]
        curve = calibration_curve(tg, s[m], bins, positive) if s is not None else []
        name = group_names[code] if 0 <= code < len(group_names) else str(code)
        rows.append(GroupRow(
            int(code), str(name), int(m.sum()), selection_rate(tg, positive), accuracy(tg, pg),
            true_positive_rate(tg, pg, positive), false_positive_rate(tg, pg, positive),
            selection_rate(pg, positive), confusion(tg, pg, n_classes), curve,
            calibration_error(curve)))
    gaps = {
        "dp_difference": demographic_parity_difference(t, p, sensitive_features=g,
                                                       positive=positive),
        "dp_ratio": demographic_parity_ratio(t, p, sensitive_features=g, positive=positive),
        "eo_difference": equalized_odds_difference(t, p, sensitive_features=g,
                                                   positive=positive),
        "eo_ratio": equalized_odds_ratio(t, p, sensitive_features=g, positive=positive),
        "tpr_difference": _spread({r.code: r.tpr for r in rows})[0],
        "fpr_difference": _spread({r.code: r.fpr for r in rows})[0],
        "accuracy_difference": _spread({r.code: r.accuracy for r in rows})[0],
    }
    overall = {"accuracy": accuracy(t, p), "selection_rate": selection_rate(p, positive),
               "tpr": true_positive_rate(t, p, positive),
               "fpr": false_positive_rate(t, p, positive), "n": float(len(t))}
    return FairnessReport(column, split, classes, positive, rows, gaps, overall, label)


# ------------------------------------------------------------------- printing
def _fmt(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3f}"


def format_group_table(report: FairnessReport) -> list[str]:
    """The per-group table as text lines, for a terminal (``nnstudio train``)."""
    if is_regression(report):
        return format_regression_table(report)
    where = "validation" if report.split == "val" else report.split
    head = (f"per-group metrics on the {where} split ({report.label}), sensitive column "
            f"'{report.column}', positive class '{report.positive_name}':")
    width = max([5] + [len(r.name) for r in report.groups])
    cols = ("n", "accuracy", "TPR", "FPR", "selection")
    lines = [head, "  " + "group".ljust(width) + "".join(f"  {c:>9}" for c in cols)]
    for r in report.groups:
        values = (str(r.n), _fmt(r.accuracy), _fmt(r.tpr), _fmt(r.fpr), _fmt(r.selection_rate))
        lines.append("  " + r.name.ljust(width) + "".join(f"  {v:>9}" for v in values))
    gaps = report.gaps
    lines.append(f"  demographic-parity difference {_fmt(gaps['dp_difference'])} "
                 f"(ratio {_fmt(gaps['dp_ratio'])}); equalised-odds difference "
                 f"{_fmt(gaps['eo_difference'])} (ratio {_fmt(gaps['eo_ratio'])})")
    return lines
