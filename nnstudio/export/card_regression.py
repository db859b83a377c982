"""The model card's per-group sections for a regression model: errors by group.

A regressor's per-group figures (:mod:`nnstudio.train.fairness_regression`) are not a
classifier's, so its tables have their own columns.  Blocks as in
:mod:`nnstudio.export.model_card`: ("h3", text), ("p", text), ("table", header, rows),
("ul", items).
"""

from __future__ import annotations

import math
from typing import Any

from nnstudio.train.fairness_regression import (
    REGRESSION_DEFINITIONS,
    REGRESSION_GAP_NAMES,
    REGRESSION_GAP_TITLES,
    RegressionFairnessReport,
)

_SPLIT_TITLES = {"train": "training", "val": "validation", "test": "test"}


def _num(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    return "—" if not math.isfinite(value) else f"{value:.4g}"


def group_blocks(column: str, report: RegressionFairnessReport) -> list[tuple]:
    """The per-group error table of one report."""
    where = _SPLIT_TITLES.get(report.split, report.split)
    rows = [[g.name, f"{g.n:,}", _num(g.mean_target), _num(g.mean_prediction), _num(g.bias),
             _num(g.mae), _num(g.rmse), _num(g.r2)] for g in report.groups]
    return [("h3", f"'{column}' on the {where} split, {report.label}"),
            ("table", ["group", "examples", "mean true value", "mean prediction", "bias",
                       "MAE", "RMSE", "R²"], rows),
            ("p", f"Errors in the units of the {report.target} (standardisation undone).")]


def gap_blocks(column: str, reports: list[RegressionFairnessReport]) -> list[tuple]:
    """The gaps between the groups of one column, one value column per report."""
    header = ["gap"] + [r.label for r in reports]
    rows = [[REGRESSION_GAP_TITLES[g]] + [_num(r.gaps.get(g, float("nan"))) for r in reports]
            for g in REGRESSION_GAP_NAMES]
    return [("h3", f"Between the groups of '{column}'"), ("table", header, rows)]


def definitions() -> list[str]:
    """The definitions a regression card lists under its gaps."""
    return [REGRESSION_DEFINITIONS[k] for k in ("mae", "bias", "mae_difference", "mae_ratio",
                                                "mean_prediction_difference",
                                                "bias_difference")]


LIMITATION = ("No single number makes a regression model fair: equal errors, equal mean "
              "predictions and equal bias can pull in different directions, and groups "
              "may truly differ in their mean outcome; which matters is a decision for the "
              "people affected, not for the metric.")
