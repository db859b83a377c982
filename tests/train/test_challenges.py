"""Challenges: a template's goal is data that is checked on load and judged after a run."""

from __future__ import annotations

import json

import pytest
import torch

from nnstudio.graph.challenge_schema import Challenge, ChallengeError, parse_challenge
from nnstudio.graph.project_file import ProjectFileError, dumps_project
from nnstudio.graph.templates import list_templates, load_template
from nnstudio.train import TrainResult, recipe_class
from nnstudio.train.challenges import check, count_parameters

GOOD = {"goal": "Reach 98 % test accuracy with at most 50,000 parameters.",
        "metric": "test.accuracy", "at_least": 0.98,
        "limits": {"max_parameters": 50_000, "max_seconds": 120}}


def _with(**changes) -> dict:
    data = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def result(metrics: dict, seconds: float = 41.0, reason: str = "completed") -> TrainResult:
    return TrainResult(reason, "done", metrics=metrics, elapsed_s=seconds)


# ------------------------------------------------------------------ reading the data
def test_a_well_formed_challenge_is_read_and_written_back_unchanged():
    c = parse_challenge(GOOD)
    assert c == Challenge(GOOD["goal"], "test", "accuracy", "at_least", 0.98, 50_000, 120)
    assert c.key == "test.accuracy"
    assert parse_challenge(c.to_dict()) == c
    minimal = {"goal": "Lower the loss.", "metric": "val.loss", "at_most": 2.0}
    assert parse_challenge(minimal).to_dict() == minimal


@pytest.mark.parametrize("data, message", [
    ([1, 2], r"^meta\.challenge: expected an object, got a list$"),
    (_with(goal=...), r"^meta\.challenge\.goal: expected one sentence of text, got null$"),
    (_with(goal="  "), r"^meta\.challenge\.goal: must not be empty$"),
    (_with(metric="accuracy"), (r"^meta\.challenge\.metric: expected \"<split>\.<name>\" "
                                r"with split train, val, test .*got 'accuracy'$")),
    (_with(metric="dev.accuracy"), r"^meta\.challenge\.metric: .*got 'dev\.accuracy'$"),
    (_with(metric="test.acc uracy"), r"^meta\.challenge\.metric: "),
    (_with(metric=3), r"^meta\.challenge\.metric: expected text .*got a number$"),
    (_with(at_least=...), r"^meta\.challenge\.at_least: missing: give at_least or at_most"),
    (_with(at_most=0.5), r"^meta\.challenge\.at_most: give exactly one of at_least and at_most"),
    (_with(at_least="98%"), r"^meta\.challenge\.at_least: expected a finite number, got text$"),
    (_with(at_least=True), (r"^meta\.challenge\.at_least: expected a finite number, "
                            r"got true/false$")),
    (_with(at_least=float("inf")), r"^meta\.challenge\.at_least: expected a finite number"),
    (_with(limits=[50_000]), r"^meta\.challenge\.limits: expected an object, got a list$"),
    (_with(limits={"max_parameters": 5.5}),
     r"^meta\.challenge\.limits\.max_parameters: expected a whole number, got a number$"),
    (_with(limits={"max_parameters": 0}),
     r"^meta\.challenge\.limits\.max_parameters: must be at least 1, got 0$"),
    (_with(limits={"max_seconds": -1}),
     r"^meta\.challenge\.limits\.max_seconds: must be more than 0, got -1$"),
    (_with(limits={"max_epochs": 3}),
     (r"^meta\.challenge\.limits\.max_epochs: unknown limit \(limits are max_parameters "
      r"and max_seconds\)$")),
    (_with(target=0.98), r"^meta\.challenge\.target: unknown field \(a challenge has goal, "),
])
def test_a_malformed_challenge_is_refused_naming_the_field(data, message):
    with pytest.raises(ChallengeError, match=message):
        parse_challenge(data)


def test_a_template_with_a_malformed_challenge_is_refused_when_listed_or_loaded(
        tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    folder.mkdir()
    project = load_template("perceptron")
    project.meta["challenge"] = _with(metric="accuracy")
    (folder / "broken.nnstudio").write_text(dumps_project(project), encoding="utf-8")
    monkeypatch.setenv("NNSTUDIO_ASSETS", str(tmp_path))
    with pytest.raises(ProjectFileError, match=r"^broken\.nnstudio: meta\.challenge\.metric: "):
        list_templates()
    with pytest.raises(ProjectFileError, match=r"^broken\.nnstudio: meta\.challenge\.metric: "):
        load_template("broken")


def test_a_project_made_from_a_template_remembers_it_through_save_and_load(tmp_path):
    from nnstudio.graph.project_file import load_project, save_project

    project = load_template("vgg-digits")
    assert project.meta["template"] == "vgg-digits"
    path = tmp_path / "my-own-name.nnstudio"
    save_project(project, path)
    again = load_project(path)
    assert again.meta["template"] == "vgg-digits"
    assert again.meta["challenge"] == project.meta["challenge"]


# ------------------------------------------------------------------ the shipped challenges
def test_the_shipped_challenges_are_well_formed_and_name_metrics_their_recipes_report():
    with_challenge = {}
    for info in list_templates():
        project = load_template(info.name)
        if "challenge" not in project.meta:
            continue
        c = with_challenge[info.name] = parse_challenge(project.meta["challenge"])
        recipe = recipe_class(project.training["config"]["recipe"])
        # the recipe reports the metric, and "better" points the way the bound does
        assert c.metric in recipe.metric_modes, (info.name, c.key, sorted(recipe.metric_modes))
        better = recipe.metric_modes[c.metric]
        assert (c.op, better) in {("at_least", "max"), ("at_most", "min")}, (info.name, c.op)
    # the CNN, MLP and perceptron stages at least carry one
    assert {"perceptron", "mlp", "cnn-digits", "vgg-digits", "resnet-digits"} <= set(with_challenge)
    vgg = with_challenge["vgg-digits"]
    assert (vgg.key, vgg.op, vgg.target, vgg.max_parameters) == ("test.accuracy", "at_least",
                                                                  0.98, 50_000)


# ------------------------------------------------------------------ verdicts
def test_a_run_that_meets_every_bound_achieves_the_challenge():
    v = check(GOOD, result({"test": {"accuracy": 0.981}}, seconds=41.2), parameters=48_202)
    assert v.achieved and v.value == pytest.approx(0.981)
    assert v.reasons == ["test accuracy 0.981 ≥ 0.98 ✓", "48,202 parameters ≤ 50,000 ✓",
                         "41 s ≤ 120 s ✓"]
    assert v.summary == "; ".join(v.reasons)


def test_too_many_parameters_fails_even_with_the_accuracy():
    v = check(GOOD, result({"test": {"accuracy": 0.989}}), parameters=145_610)
    assert not v.achieved
    assert v.reasons[0].endswith("✓")
    assert v.reasons[1] == "145,610 parameters > 50,000 ✗"


def test_a_value_just_under_the_bound_is_shown_with_the_digits_that_tell_them_apart():
    v = check(GOOD, result({"test": {"accuracy": 0.97994}}), parameters=100)
    assert not v.achieved
    assert v.reasons[0] == "test accuracy 0.9799 < 0.98 ✗"
    closer = check(GOOD, result({"test": {"accuracy": 0.979999}}), parameters=100)
    assert closer.reasons[0] == "test accuracy 0.979999 < 0.98 ✗"
    exact = check(GOOD, result({"test": {"accuracy": 0.98}}), parameters=100)
    assert exact.achieved and exact.reasons[0] == "test accuracy 0.98 ≥ 0.98 ✓"


def test_an_upper_bound_and_a_time_limit():
    challenge = {"goal": "Below 2 nats a character in two minutes.", "metric": "val.loss",
                 "at_most": 2.0, "limits": {"max_seconds": 120}}
    good = check(challenge, result({"val": {"loss": 1.87}}, seconds=95), parameters=None)
    assert good.achieved and good.reasons == ["validation loss 1.87 ≤ 2 ✓", "95 s ≤ 120 s ✓"]
    slow = check(challenge, result({"val": {"loss": 1.87}}, seconds=130.4), parameters=None)
    assert not slow.achieved and slow.reasons[1] == "130 s > 120 s ✗"
    high = check(challenge, result({"val": {"loss": 2.31}}, seconds=5.25), parameters=None)
    assert not high.achieved and high.reasons == ["validation loss 2.31 > 2 ✗", "5.2 s ≤ 120 s ✓"]


def test_a_metric_the_run_did_not_report_is_not_achieved_and_says_why():
    v = check(GOOD, result({"val": {"accuracy": 0.99}}, reason="stopped"), parameters=10)
    assert not v.achieved and v.value is None
    assert v.reasons[0] == ("test accuracy: the run was stopped before the test split was "
                            "evaluated ✗")
    other = check({"goal": "g", "metric": "test.modes_covered", "at_least": 7},
                  result({"test": {"loss": 1.0}}), parameters=None)
    assert other.reasons == ["test modes covered: this run did not report it ✗"]


def test_a_failed_or_diverged_run_achieves_nothing():
    failed = check(GOOD, TrainResult("error", "boom", metrics={"test": {"accuracy": 1.0}}), 10)
    assert not failed.achieved and "failed" in failed.reasons[0]
    nan = check(GOOD, result({"test": {"accuracy": float("nan")}}), 10)
    assert not nan.achieved and "not a number" in nan.reasons[0]


def test_a_parameter_limit_needs_the_count():
    with pytest.raises(ValueError, match="limits parameters"):
        check(GOOD, result({"test": {"accuracy": 0.99}}), parameters=None)


def test_a_malformed_challenge_dict_is_refused_by_check():
    with pytest.raises(ChallengeError, match="metric"):
        check(_with(metric="x"), result({}), parameters=1)


def test_parameters_are_counted_frozen_ones_included():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 4 * 3 + 3 + 3 * 2 + 2
