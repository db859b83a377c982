"""Fairness metrics against hand-computed values and against fairlearn's definitions."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.train.fairness import (
    DEFINITIONS,
    FairnessReport,
    calibration_curve,
    calibration_error,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    fairness_report,
    false_positive_rate,
    format_group_table,
    selection_rate,
    true_positive_rate,
)

# Ten people in two groups.  By hand:
#   group 0 (6): TP 2, FN 1, FP 1, TN 2 -> accuracy 4/6, TPR 2/3, FPR 1/3, selection 3/6
#   group 1 (4): TP 1, FN 1, FP 0, TN 2 -> accuracy 3/4, TPR 1/2, FPR 0,   selection 1/4
Y_TRUE = [1, 1, 0, 0, 1, 0, 1, 0, 0, 1]
Y_PRED = [1, 0, 0, 1, 1, 0, 0, 0, 0, 1]
GROUPS = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


def test_single_rates_match_their_definitions():
    assert selection_rate(Y_PRED) == pytest.approx(4 / 10)
    assert true_positive_rate(Y_TRUE, Y_PRED) == pytest.approx(3 / 5)
    assert false_positive_rate(Y_TRUE, Y_PRED) == pytest.approx(1 / 5)
    # no positives (or no negatives) at all: 0, as fairlearn's normalised confusion matrix
    assert true_positive_rate([0, 0], [1, 0]) == 0.0
    assert false_positive_rate([1, 1], [1, 0]) == 0.0


def test_gaps_on_the_hand_computed_fixture():
    kw = {"sensitive_features": GROUPS}
    assert demographic_parity_difference(Y_TRUE, Y_PRED, **kw) == pytest.approx(0.5 - 0.25)
    assert demographic_parity_ratio(Y_TRUE, Y_PRED, **kw) == pytest.approx(0.25 / 0.5)
    # TPR gap 2/3 - 1/2 = 1/6, FPR gap 1/3 - 0 = 1/3: the worse of the two
    assert equalized_odds_difference(Y_TRUE, Y_PRED, **kw) == pytest.approx(1 / 3)
    # TPR ratio 0.75, FPR ratio 0: the smaller
    assert equalized_odds_ratio(Y_TRUE, Y_PRED, **kw) == pytest.approx(0.0)


def test_report_holds_every_group_figure_and_gap():
    report = fairness_report(Y_TRUE, Y_PRED, GROUPS, column="sex", group_names=("F", "M"),
                             classes=("no", "yes"))
    a, b = report.groups
    assert (a.name, a.n, b.name, b.n) == ("F", 6, "M", 4)
    assert (a.accuracy, a.tpr, a.fpr, a.selection_rate) == pytest.approx((4 / 6, 2 / 3, 1 / 3, 0.5))
    assert (b.accuracy, b.tpr, b.fpr, b.selection_rate) == pytest.approx((3 / 4, 1 / 2, 0.0, 0.25))
    assert a.base_rate == pytest.approx(3 / 6) and b.base_rate == pytest.approx(2 / 4)
    assert a.confusion == [[2, 1], [1, 2]] and b.confusion == [[2, 0], [1, 1]]
    assert report.gaps["dp_difference"] == pytest.approx(0.25)
    assert report.gaps["tpr_difference"] == pytest.approx(1 / 6)
    assert report.gaps["fpr_difference"] == pytest.approx(1 / 3)
    assert report.gaps["accuracy_difference"] == pytest.approx(3 / 4 - 4 / 6)
    assert report.overall["accuracy"] == pytest.approx(7 / 10)
    assert report.positive_name == "yes"
    # it survives a trip through JSON-ready values (fairness.json)
    assert FairnessReport.from_dict(report.to_dict()) == report


def test_only_groups_present_count_and_ratio_of_nobody_selected_is_parity():
    # code 1 never appears: no empty group drags a gap to 1
    report = fairness_report([0, 1, 0, 1], [0, 1, 1, 1], [0, 0, 2, 2], column="g",
                             group_names=("a", "b", "c"))
    assert [g.name for g in report.groups] == ["a", "c"]
    assert demographic_parity_ratio([0, 0], [0, 0], sensitive_features=[0, 1]) == 1.0


def test_calibration_by_bins_and_its_error():
    y = [0, 0, 1, 1, 1]
    s = [0.05, 0.15, 0.12, 0.95, 0.91]
    curve = calibration_curve(y, s, bins=10)
    assert [b["n"] for b in curve] == [1, 2, 2]
    assert curve[1] == pytest.approx({"score": (0.15 + 0.12) / 2, "observed": 0.5, "n": 2})
    assert curve[2]["observed"] == 1.0
    expected = (1 * 0.05 + 2 * abs(0.5 - 0.135) + 2 * abs(1 - 0.93)) / 5
    assert calibration_error(curve) == pytest.approx(expected)


def test_the_terminal_table_lists_each_group_and_the_gaps():
    report = fairness_report(Y_TRUE, Y_PRED, GROUPS, column="sex", group_names=("F", "M"))
    lines = format_group_table(report)
    text = "\n".join(lines)
    assert "sensitive column 'sex'" in text
    rows = [line.split() for line in lines]
    assert ["group", "n", "accuracy", "TPR", "FPR", "selection"] in rows
    assert ["F", "6", "0.667", "0.667", "0.333", "0.500"] in rows
    assert ["M", "4", "0.750", "0.500", "0.000", "0.250"] in rows
    assert "demographic-parity difference 0.250 (ratio 0.500)" in text
    assert "equalised-odds difference 0.333" in text


def test_every_shown_figure_has_a_definition():
    for key in ("accuracy", "tpr", "fpr", "selection_rate", "calibration", "confusion",
                "dp_difference", "dp_ratio", "eo_difference", "eo_ratio", "reweight",
                "thresholds"):
        assert len(DEFINITIONS[key]) > 40


@pytest.mark.parametrize("seed", range(4))
def test_gaps_agree_with_fairlearn(seed):
    fl = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(seed)
    n = 300
    groups = rng.integers(0, 3, n)
    y = (rng.random(n) < 0.3 + 0.15 * groups).astype(int)
    pred = (rng.random(n) < 0.2 + 0.2 * groups + 0.3 * y).clip(0, 1).astype(int)
    kw = {"sensitive_features": groups}
    assert demographic_parity_difference(y, pred, **kw) == pytest.approx(
        fl.demographic_parity_difference(y, pred, **kw))
    assert demographic_parity_ratio(y, pred, **kw) == pytest.approx(
        fl.demographic_parity_ratio(y, pred, **kw))
    assert equalized_odds_difference(y, pred, **kw) == pytest.approx(
        fl.equalized_odds_difference(y, pred, **kw))
    assert equalized_odds_ratio(y, pred, **kw) == pytest.approx(
        fl.equalized_odds_ratio(y, pred, **kw))
    frame = fl.MetricFrame(metrics={"tpr": fl.true_positive_rate, "fpr": fl.false_positive_rate,
                                    "sel": fl.selection_rate},
                           y_true=y, y_pred=pred, sensitive_features=groups)
    report = fairness_report(y, pred, groups, column="g")
    for row in report.groups:
        assert row.tpr == pytest.approx(frame.by_group["tpr"][row.code])
        assert row.fpr == pytest.approx(frame.by_group["fpr"][row.code])
        assert row.selection_rate == pytest.approx(frame.by_group["sel"][row.code])
