"""A built-in table's column marked sensitive: options checked with clear messages, the
column kept out of the inputs yet present for evaluation, groups formed as documented,
and fairness figures computed per group — for a classifier and for a regressor."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, get_dataset, load_dataset
from nnstudio.data.base import DatasetInfo, DatasetSplits, Split
from nnstudio.data.sensitive import COLUMNS, MAX_CATEGORIES, mark_sensitive
from nnstudio.graph.templates import load_template
from nnstudio.train import Trainer
from nnstudio.train.fairness import format_group_table
from nnstudio.train.fairness_regression import (
    RegressionFairnessReport,
    gap_is_large,
    regression_report,
)
from nnstudio.train.fairness_run import (
    FairnessEvaluation,
    decisions_and_scores,
    evaluate_fairness,
    regression_predictions,
)
from nnstudio.train.project_run import prepare_run

torch.set_num_threads(1)


# ------------------------------------------------------------------ the options
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_built_in_tables_offer_their_columns_and_keep_in_inputs(name):
    entry = get_dataset(name)
    sensitive = entry.option("sensitive")
    assert sensitive.default == "" and sensitive.choices == ("", *COLUMNS[name])
    keep = entry.option("keep_in_inputs")
    assert keep.type is bool and keep.default is False


def test_the_listed_columns_are_scikit_learns_own():
    from sklearn import datasets

    loaders = {"iris": datasets.load_iris, "wine": datasets.load_wine,
               "breast-cancer": datasets.load_breast_cancer,
               "diabetes": datasets.load_diabetes}
    for name, load in loaders.items():
        assert COLUMNS[name] == tuple(str(f) for f in load().feature_names), name


def test_image_sets_get_no_sensitive_option():
    with pytest.raises(KeyError):
        get_dataset("digits").option("sensitive")


def test_an_unknown_column_is_refused_naming_the_option_and_the_choices():
    with pytest.raises(DatasetError, match=r"dataset 'diabetes': option 'sensitive' must be "
                                           r"one of .*'sex'.*got 'gender'"):
        load_dataset("diabetes", sensitive="gender")


def test_keep_in_inputs_must_be_true_or_false():
    with pytest.raises(DatasetError, match="option 'keep_in_inputs' expects true/false"):
        load_dataset("iris", sensitive="sepal width (cm)", keep_in_inputs="yes")


def test_marking_refuses_what_cannot_be_a_sensitive_column():
    info = DatasetInfo("t", "classification", (1,), ("a", "b"), feature_names=("only",))
    x = torch.zeros(4, 1)
    split = Split(x, torch.zeros(4, dtype=torch.int64))
    splits = DatasetSplits(info, split, split, split)
    with pytest.raises(DatasetError, match="no column named 'other'.*columns are: only"):
        mark_sensitive(splits, "other")
    with pytest.raises(DatasetError, match="'only' is the only input"):
        mark_sensitive(splits, "only")
    marked = mark_sensitive(splits, "only", keep_in_inputs=True)
    with pytest.raises(DatasetError, match="'only' is sensitive already"):
        mark_sensitive(marked, "only", keep_in_inputs=True)
    images = DatasetSplits(DatasetInfo("i", "classification", (1, 2, 2), ("a", "b"),
                                       kind="image"), split, split, split)
    with pytest.raises(DatasetError, match="only a table's column can be sensitive"):
        mark_sensitive(images, "only")


# ------------------------------------------------------------------ the data
def test_diabetes_sex_leaves_the_inputs_and_travels_as_two_groups():
    full = load_dataset("diabetes", normalise=False)
    marked = load_dataset("diabetes", sensitive="sex", normalise=False)
    assert full.info.input_shape == (10,) and marked.info.input_shape == (9,)
    assert "sex" not in marked.info.feature_names
    assert marked.info.sensitive == (("sex", ("sex=1", "sex=2")),)
    keep = [i for i, f in enumerate(full.info.feature_names) if f != "sex"]
    for part in ("train", "val", "test"):
        a, b = getattr(full, part), getattr(marked, part)
        assert torch.equal(b.x, a.x[:, keep])  # the same examples, in the same split
        assert torch.equal(b.y, a.y)
        codes = b.extra["sex"]
        assert codes.dtype == torch.int64 and len(codes) == len(b)
        assert torch.equal(codes, (a.x[:, 1] == 2).long())  # sex 1 -> code 0, sex 2 -> 1
    assert set(marked.test.extra["sex"].tolist()) == {0, 1}


def test_normalisation_statistics_follow_the_inputs():
    full = load_dataset("diabetes")
    marked = load_dataset("diabetes", sensitive="sex")
    assert marked.norm_mean.shape == (9,) and marked.norm_std.shape == (9,)
    assert torch.equal(marked.norm_mean, torch.cat([full.norm_mean[:1], full.norm_mean[2:]]))
    # the groups come from the original values, whatever the scaling
    assert torch.equal(marked.train.extra["sex"],
                       load_dataset("diabetes", sensitive="sex",
                                    normalise=False).train.extra["sex"])


def test_keep_in_inputs_gives_the_column_to_the_model_as_well():
    kept = load_dataset("diabetes", sensitive="sex", keep_in_inputs=True)
    assert kept.info.input_shape == (10,) and "sex" in kept.info.feature_names
    assert "sex" in kept.test.extra and kept.norm_mean.shape == (10,)
    assert "kept in the inputs" in kept.info.description


def test_a_numeric_column_is_split_at_its_training_median():
    raw = load_dataset("iris", normalise=False)
    marked = load_dataset("iris", sensitive="petal length (cm)")
    median = float(np.median(raw.train.x[:, 2].double().numpy()))
    names = dict(marked.info.sensitive)["petal length (cm)"]
    assert names == (f"petal length (cm) < {median:.4g}", f"petal length (cm) ≥ {median:.4g}")
    for part in ("train", "val", "test"):
        expected = (getattr(raw, part).x[:, 2].double() >= median).long()
        assert torch.equal(getattr(marked, part).extra["petal length (cm)"], expected)
    assert len(np.unique(raw.train.x[:, 2].numpy())) > MAX_CATEGORIES


# ------------------------------------------------------------------ fairness per group
def _table_project(dataset: dict, n_inputs: int, n_outputs: int, recipe: str, loss: str):
    project = load_template("mlp")
    graph = project.graph()
    ids = {n.name: n.id for n in graph.nodes}
    graph.set_params(ids["x"], {"shape": [n_inputs], "dtype": "float"})
    graph.set_params(ids["fc3"], {"out_features": n_outputs, "bias": True})
    project.set_training({"dataset": dataset, "config": {
        "recipe": recipe, "loss": loss, "optimizer": "adam", "lr": 0.01, "batch_size": 32,
        "epochs": 8, "seed": 0, "device": "cpu"}})
    return project


@pytest.fixture(scope="module")
def cancer_run():
    project = _table_project({"name": "breast-cancer", "sensitive": "mean radius"}, 29, 2,
                             "classification", "cross_entropy")
    run = prepare_run(project)
    Trainer(run.model, run.splits, run.config).fit()
    return run


def test_a_classifier_on_breast_cancer_is_evaluated_per_radius_group(cancer_run):
    run = cancer_run
    assert run.splits.info.input_shape == (29,)
    (ev,) = evaluate_fairness(run.model, run.splits, run.config)
    assert ev.column == "mean radius" and not ev.regression
    report = ev.baseline
    pred, _ = decisions_and_scores(run.model, run.splits, run.config)
    y = run.splits.test.y.numpy()
    groups = run.splits.test.extra["mean radius"].numpy()
    for row in report.groups:
        m = groups == row.code
        assert row.n == int(m.sum())
        assert row.accuracy == pytest.approx(float((pred[m] == y[m]).mean()))
        assert row.selection_rate == pytest.approx(float((pred[m] == 1).mean()))
    rates = [r.selection_rate for r in report.groups]
    assert report.gaps["dp_difference"] == pytest.approx(max(rates) - min(rates))
    assert ev.thresholded is not None  # two classes: thresholds chosen on validation


@pytest.fixture(scope="module")
def diabetes_run():
    project = _table_project({"name": "diabetes", "sensitive": "sex"}, 9, 1, "regression",
                             "mse")
    run = prepare_run(project)
    Trainer(run.model, run.splits, run.config).fit()
    return run


def test_a_regressor_on_diabetes_gets_its_errors_per_sex(diabetes_run):
    run = diabetes_run
    (ev,) = evaluate_fairness(run.model, run.splits, run.config)
    assert ev.regression and ev.column == "sex" and ev.thresholded is None
    report = ev.baseline
    y, pred = regression_predictions(run.model, run.splits, run.config)
    raw = load_dataset("diabetes", sensitive="sex", normalise=False)
    assert np.allclose(y, raw.test.y.double().reshape(-1).numpy(), atol=1e-3)  # original units
    groups = run.splits.test.extra["sex"].numpy()
    assert [g.name for g in report.groups] == ["sex=1", "sex=2"]
    for row in report.groups:
        m = groups == row.code
        assert row.mae == pytest.approx(float(np.abs(pred[m] - y[m]).mean()))
        assert row.bias == pytest.approx(float(pred[m].mean() - y[m].mean()))
    maes = [g.mae for g in report.groups]
    assert report.gaps["mae_difference"] == pytest.approx(max(maes) - min(maes))
    again = FairnessEvaluation.from_dict(json.loads(json.dumps(ev.to_dict())))
    assert again.regression and again.baseline.gaps == pytest.approx(report.gaps)
    assert again.baseline.points["prediction"] == pytest.approx(report.points["prediction"])
    text = "\n".join(format_group_table(report))
    assert "per-group errors" in text and "sex=2" in text and "MAE difference" in text


def test_regression_report_against_hand_computed_values():
    # group 0: true 1, 2, 3 predicted 2, 2, 2 -> MAE 2/3, bias 0, R² 1 - 2/2 = 0
    # group 1: true 10, 20 predicted 12, 18 -> MAE 2, bias 0, R² 1 - 8/50
    report = regression_report([1, 2, 3, 10, 20], [2, 2, 2, 12, 18], [0, 0, 0, 1, 1],
                               column="g", group_names=("a", "b"))
    a, b = report.groups
    assert (a.name, a.n, b.name, b.n) == ("a", 3, "b", 2)
    assert a.mae == pytest.approx(2 / 3) and b.mae == pytest.approx(2.0)
    assert a.rmse == pytest.approx(np.sqrt(2 / 3)) and b.rmse == pytest.approx(2.0)
    assert a.r2 == pytest.approx(0.0) and b.r2 == pytest.approx(1 - 8 / 50)
    assert a.mean_prediction == pytest.approx(2.0) and b.mean_target == pytest.approx(15.0)
    assert report.gaps["mae_difference"] == pytest.approx(2 - 2 / 3)
    assert report.gaps["mae_ratio"] == pytest.approx((2 / 3) / 2)
    assert report.gaps["mean_prediction_difference"] == pytest.approx(13.0)
    assert report.gaps["bias_difference"] == pytest.approx(0.0)
    assert report.overall["mae"] == pytest.approx((1 + 0 + 1 + 2 + 2) / 5)
    assert gap_is_large(report, "mae_ratio") and not gap_is_large(report, "bias_difference")


def test_the_model_card_of_a_regressor_lists_errors_by_group(diabetes_run):
    from nnstudio.export.model_card import card_from_results, to_markdown

    run = diabetes_run
    evaluations = evaluate_fairness(run.model, run.splits, run.config)
    project = _table_project({"name": "diabetes", "sensitive": "sex"}, 9, 1, "regression",
                             "mse")
    card = card_from_results(project, fairness=evaluations, metrics={"test": {"mae": 0.5}},
                             trained="completed: done")
    text = to_markdown(card)
    assert "| group | examples | mean true value | mean prediction | bias | MAE |" in text
    assert "| MAE difference |" in text and "sex=1" in text
    assert "equal errors, equal mean predictions" in text
    assert "demographic parity and equalised odds cannot" not in text
    assert isinstance(evaluations[0].baseline, RegressionFairnessReport)


def test_a_csv_sensitive_column_can_stay_in_the_inputs(tmp_path):
    path = tmp_path / "people.csv"
    rows = [f"{i % 7},{'ab'[i % 2]},{i % 3},{i % 2}" for i in range(60)]
    path.write_text("x,group,z,label\n" + "\n".join(rows) + "\n")
    out = load_dataset("csv", path=str(path), sensitive="group")
    kept = load_dataset("csv", path=str(path), sensitive="group", keep_in_inputs=True)
    assert out.info.feature_names == ("x", "z")
    assert kept.info.feature_names == ("x", "group=a", "group=b", "z")
    assert torch.equal(out.test.extra["group"], kept.test.extra["group"])
