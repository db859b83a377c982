"""Per-group figures for a regression model: does it err more for one group than another?

A regressor makes no yes/no decision, so selection rates and equalised odds do not
apply.  What can differ between groups is how far off the model is (mean absolute
error, root-mean-square error, R²), and whether it systematically predicts higher or
lower values for one group (mean prediction, and bias = mean of prediction − target).
The gaps compare the groups the way the classification gaps do — largest minus
smallest, and smallest over largest for the error ratio:

* MAE difference and MAE ratio — "bounded group loss" in the fairness literature
  (Agarwal et al., 2019): no group should bear much more error than another;
* mean-prediction difference — the regression analogue of demographic parity
  ("statistical parity of the mean prediction");
* bias difference — one group over-predicted while another is under-predicted;
* R² difference.

Figures are in the target's own units (the caller undoes target standardisation).
Pure numpy; the group codes are a sensitive column's codes from ``Split.extra``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KIND = "regression"
# An example sample kept per report for a predicted-versus-true picture (JSON-able).
MAX_POINTS = 1000

REGRESSION_DEFINITIONS: dict[str, str] = {
    "mae": "Mean absolute error (MAE) of the group: the average distance between the "
           "prediction and the true value, in the target's units. Lower is better.",
    "rmse": "Root-mean-square error (RMSE) of the group: like MAE, but large errors "
            "count more.",
    "r2": "R² of the group: the share of the variation of the true values within the "
          "group that the model explains (1 is perfect, 0 is no better than the group's "
          "mean). A small group with little spread can have a low R² and a small MAE.",
    "mean_target": "Mean true value of the group.",
    "mean_prediction": "Mean prediction of the group.",
    "bias": "Bias of the group: mean prediction minus mean true value. Positive: the "
            "model predicts too high for this group; negative: too low.",
    "mae_difference": "MAE difference: the largest group MAE minus the smallest. 0 means "
                      "every group bears the same error (bounded group loss).",
    "mae_ratio": "MAE ratio: the smallest group MAE divided by the largest. 1 means equal "
                 "error; below 0.8 one group bears clearly more of it.",
    "mean_prediction_difference": "Mean-prediction difference: the largest mean "
                                  "prediction of any group minus the smallest — the "
                                  "regression analogue of demographic parity. Groups can "
                                  "truly differ; compare it with their mean true values.",
    "bias_difference": "Bias difference: the largest group bias (mean prediction − mean "
                       "true value) minus the smallest. 0 means no group is pushed up or "
                       "down more than another.",
    "r2_difference": "R² difference: the best group's R² minus the worst group's.",
    "scatter": "Predicted against true value, one dot per test example, coloured by "
               "group. Dots on the diagonal are perfect; a group whose dots sit above it "
               "is predicted too high.",
}

REGRESSION_GAP_NAMES = ("mae_difference", "mae_ratio", "mean_prediction_difference",
                        "bias_difference", "r2_difference")
REGRESSION_GAP_TITLES = {
    "mae_difference": "MAE difference",
    "mae_ratio": "MAE ratio",
    "mean_prediction_difference": "mean-prediction difference",
    "bias_difference": "bias difference",
    "r2_difference": "R² difference",
}


def _arrays(*values: Any) -> list[np.ndarray]:
    out = [np.asarray(v, dtype=np.float64).reshape(-1) for v in values]
    if len({len(v) for v in out}) > 1:
        raise ValueError(f"arrays of different lengths: {[len(v) for v in out]}")
    return out


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.abs(p - t).mean()) if len(t) else 0.0


def root_mean_squared_error(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.sqrt(((p - t) ** 2).mean())) if len(t) else 0.0


def r2_score(y_true: Any, y_pred: Any) -> float:
    """1 − SS_res / SS_tot (scikit-learn's definition); 0.0 for a group whose true
    values are all equal (where scikit-learn gives 1.0 or 0.0 by a special case)."""
    t, p = _arrays(y_true, y_pred)
    total = float(((t - t.mean()) ** 2).sum()) if len(t) else 0.0
    if total == 0.0:
        return 0.0
    return 1.0 - float(((t - p) ** 2).sum()) / total


@dataclass
class RegressionGroupRow:
    """One group's figures on one split, in the target's units."""

    code: int
    name: str
    n: int
    mean_target: float
    mean_prediction: float
    mae: float
    rmse: float
    r2: float
    bias: float  # mean prediction − mean target


@dataclass
class RegressionFairnessReport:
    """Per-group errors and the gaps between groups for one sensitive column.

    Shares the fields the views and the card read with FairnessReport (``column``,
    ``split``, ``groups``, ``gaps``, ``overall``, ``label``, ``thresholds``); ``kind``
    tells them apart.  ``points`` keeps up to MAX_POINTS (target, prediction, group)
    triples for a predicted-versus-true picture.
    """

    column: str
    split: str
    groups: list[RegressionGroupRow]
    gaps: dict[str, float]
    overall: dict[str, float]  # mae, rmse, r2, n over all examples
    label: str = "as trained"
    target: str = "target"
    points: dict[str, list[float]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)  # always empty
    kind: str = KIND

    classes: tuple[str, ...] = ()
    positive_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {"kind": KIND, "column": self.column, "split": self.split,
                "label": self.label, "target": self.target,
                "groups": [dict(vars(g)) for g in self.groups], "gaps": dict(self.gaps),
                "overall": dict(self.overall),
                "points": {k: list(v) for k, v in self.points.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegressionFairnessReport:
        fields = RegressionGroupRow.__dataclass_fields__
        groups = [RegressionGroupRow(**{k: v for k, v in g.items() if k in fields})
                  for g in data.get("groups", [])]
        points = {str(k): [float(x) for x in v] for k, v in (data.get("points") or {}).items()}
        return cls(str(data["column"]), str(data.get("split", "test")), groups,
                   {k: float(v) for k, v in data.get("gaps", {}).items()},
                   {k: float(v) for k, v in data.get("overall", {}).items()},
                   str(data.get("label", "as trained")), str(data.get("target", "target")),
                   points)


def _spread(values: Sequence[float]) -> tuple[float, float]:
    """(largest − smallest, smallest / largest) of per-group values."""
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    return hi - lo, (lo / hi if hi > 0 else 1.0)


def regression_report(y_true: Any, y_pred: Any, groups: Any, *, column: str,
                      group_names: Sequence[str] = (), split: str = "test",
                      target: str = "target", label: str = "as trained",
                      seed: int = 0) -> RegressionFairnessReport:
    """Every per-group figure and gap for true values ``y_true``, predictions ``y_pred``
    and group codes ``groups`` (int, indexing ``group_names``)."""
    t, p = _arrays(y_true, y_pred)
    g = np.asarray(groups).reshape(-1).astype(np.int64)
    if len(g) != len(t):
        raise ValueError(f"groups has {len(g)} values for {len(t)} examples")
    rows = []
    for code in np.unique(g):
        m = g == code
        tg, pg = t[m], p[m]
        name = group_names[code] if 0 <= code < len(group_names) else str(code)
        rows.append(RegressionGroupRow(
            int(code), str(name), int(m.sum()), float(tg.mean()), float(pg.mean()),
            mean_absolute_error(tg, pg), root_mean_squared_error(tg, pg), r2_score(tg, pg),
            float(pg.mean() - tg.mean())))
    mae_diff, mae_ratio = _spread([r.mae for r in rows])
    gaps = {"mae_difference": mae_diff, "mae_ratio": mae_ratio,
            "mean_prediction_difference": _spread([r.mean_prediction for r in rows])[0],
            "bias_difference": _spread([r.bias for r in rows])[0],
            "r2_difference": _spread([r.r2 for r in rows])[0]}
    overall = {"mae": mean_absolute_error(t, p), "rmse": root_mean_squared_error(t, p),
               "r2": r2_score(t, p), "n": float(len(t))}
    keep = np.arange(len(t))
    if len(keep) > MAX_POINTS:
        keep = np.sort(np.random.default_rng(seed).choice(keep, MAX_POINTS, replace=False))
    points = {"target": t[keep].tolist(), "prediction": p[keep].tolist(),
              "group": g[keep].astype(float).tolist()}
    return RegressionFairnessReport(column, split, rows, gaps, overall, label, target, points)


def is_regression(report: Any) -> bool:
    return getattr(report, "kind", "") == KIND


def gap_is_large(report: RegressionFairnessReport, gap: str) -> bool:
    """Rules of thumb for flagging a gap: a ratio below 0.8, an R² gap above 0.1, and a
    difference in target units above a fifth of the overall MAE."""
    value = report.gaps.get(gap, float("nan"))
    if not math.isfinite(value):
        return False
    if gap.endswith("ratio"):
        return value < 0.8
    if gap == "r2_difference":
        return value > 0.1
    return value > 0.2 * report.overall.get("mae", 0.0)


def _fmt(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:.4g}"


def format_regression_table(report: RegressionFairnessReport) -> list[str]:
    """The per-group table as text lines, for a terminal (``nnstudio train``)."""
    where = "validation" if report.split == "val" else report.split
    head = (f"per-group errors on the {where} split ({report.label}), sensitive column "
            f"'{report.column}', in the units of the {report.target}:")
    width = max([5] + [len(r.name) for r in report.groups])
    cols = ("n", "MAE", "RMSE", "R²", "mean true", "mean pred")
    lines = [head, "  " + "group".ljust(width) + "".join(f"  {c:>9}" for c in cols)]
    for r in report.groups:
        values = (str(r.n), _fmt(r.mae), _fmt(r.rmse), _fmt(r.r2), _fmt(r.mean_target),
                  _fmt(r.mean_prediction))
        lines.append("  " + r.name.ljust(width) + "".join(f"  {v:>9}" for v in values))
    gaps = report.gaps
    lines.append(f"  MAE difference {_fmt(gaps['mae_difference'])} (ratio "
                 f"{_fmt(gaps['mae_ratio'])}); mean-prediction difference "
                 f"{_fmt(gaps['mean_prediction_difference'])}; bias difference "
                 f"{_fmt(gaps['bias_difference'])}")
    return lines
