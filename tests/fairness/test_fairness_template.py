"""The `fairness` template as shipped: the planted gap shows, and mitigation halves it.

Trained with the template's own settings (seed 0, on the CPU), once unmitigated and
once re-weighted; per-group thresholds are chosen on the validation split of each.
The numbers printed here are the ones the README reports (run with ``-s``).
"""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.graph.templates import load_template
from nnstudio.train import Trainer
from nnstudio.train.fairness_run import decisions_and_scores, evaluate_fairness
from nnstudio.train.mitigation import choose_group_thresholds
from nnstudio.train.project_run import prepare_run


def _train(reweight: str):
    project = load_template("fairness")
    run = prepare_run(project, config_overrides={"reweight": reweight, "device": "cpu"})
    result = Trainer(run.model, run.splits, run.config).fit()
    assert result.stopped_reason == "completed", result.message
    (evaluation,) = evaluate_fairness(run.model, run.splits, run.config)
    return run, evaluation


@pytest.fixture(scope="module")
def runs():
    return {"none": _train("none"), "group_label": _train("group_label")}


def test_the_template_marks_the_group_sensitive_and_states_its_intended_use():
    project = load_template("fairness")
    assert project.meta["stage"] == "ethics and bias"
    assert "synthetic" in project.meta["intended_use"]
    assert project.training["dataset"]["sensitive"] == "group"


def test_the_unmitigated_model_repeats_the_planted_gap(runs):
    run, ev = runs["none"]
    test = run.splits.test
    g, y = test.extra["group"].numpy(), test.y.numpy()
    label_gap = y[g == 0].mean() - y[g == 1].mean()
    base = ev.baseline
    a, b = base.groups
    print(f"\nlabels: approved A {y[g == 0].mean():.3f}, B {y[g == 1].mean():.3f}; "
          f"model selects A {a.selection_rate:.3f}, B {b.selection_rate:.3f}; "
          f"DP difference {base.gaps['dp_difference']:.3f}, accuracy "
          f"{base.overall['accuracy']:.3f}")
    assert label_gap > 0.3
    assert a.selection_rate > b.selection_rate  # group B, never seen, is still held back
    assert base.gaps["dp_difference"] >= 0.15
    assert base.gaps["dp_ratio"] < 0.8  # fails the four-fifths rule of thumb


def test_mitigation_halves_the_parity_gap_at_a_stated_accuracy_cost(runs):
    _, plain = runs["none"]
    _, weighted = runs["group_label"]
    base = plain.baseline
    rows = {"unmitigated": base, "per-group thresholds": plain.thresholded,
            "re-weighted": weighted.baseline,
            "re-weighted + per-group thresholds": weighted.thresholded}
    print()
    for name, report in rows.items():
        cost = base.overall["accuracy"] - report.overall["accuracy"]
        print(f"{name:36s} accuracy {report.overall['accuracy']:.3f} (cost {cost:+.3f})  "
              f"DP difference {report.gaps['dp_difference']:.3f}  "
              f"DP ratio {report.gaps['dp_ratio']:.3f}  "
              f"EO difference {report.gaps['eo_difference']:.3f}")
    dp = base.gaps["dp_difference"]
    assert rows["per-group thresholds"].gaps["dp_difference"] <= dp / 2
    assert rows["re-weighted + per-group thresholds"].gaps["dp_difference"] <= dp / 2
    assert rows["re-weighted"].gaps["dp_difference"] < 0.8 * dp  # helps, less than half
    for name, report in rows.items():  # the price in accuracy (against biased labels)
        assert base.overall["accuracy"] - report.overall["accuracy"] < 0.12, name


def test_against_the_unbiased_outcome_thresholds_cost_little(runs):
    # the generator knows who would really repay: judged by that, the gap in accuracy
    # between "as trained" and "thresholds" is much smaller than against the old labels
    run, ev = runs["none"]
    test = run.splits.test
    repays, g = test.extra["repays"].numpy(), test.extra["group"].numpy()
    _, s_val = decisions_and_scores(run.model, run.splits, run.config, "val")
    _, s_test = decisions_and_scores(run.model, run.splits, run.config, "test")
    chosen = choose_group_thresholds(s_val, run.splits.val.y.numpy(),
                                     run.splits.val.extra["group"].numpy())
    as_trained = np.mean((s_test >= 0.5) == repays)
    adjusted = np.mean(chosen.apply(s_test, g) == repays)
    print(f"\naccuracy against who would really repay: as trained {as_trained:.3f}, "
          f"per-group thresholds {adjusted:.3f}")
    biased_cost = ev.baseline.overall["accuracy"] - ev.thresholded.overall["accuracy"]
    assert as_trained - adjusted < biased_cost
    assert adjusted > as_trained  # here the "costly" thresholds are in truth more accurate
