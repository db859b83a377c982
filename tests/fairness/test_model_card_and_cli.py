"""The model card (Markdown and HTML) and the headless commands: `train` prints the
per-group table, `card` writes the card from the run folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nnstudio.cli import main
from nnstudio.export.model_card import (
    card_from_results,
    card_from_run_folder,
    format_for,
    to_html,
    to_markdown,
)
from nnstudio.graph.project_file import save_project
from nnstudio.graph.templates import load_template
from nnstudio.train.fairness import fairness_report
from nnstudio.train.fairness_run import FairnessEvaluation

SECTIONS = ("Model", "Intended use", "Training data", "Hyperparameters", "Overall metrics",
            "Per-group metrics", "Fairness gaps", "Mitigations compared", "Limitations")
EVIL = "<script>alert('x')</script> & <b>bold</b>"


def _evaluation() -> FairnessEvaluation:
    y, pred, groups = [1, 1, 0, 0, 1, 0, 1, 0], [1, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]
    scores = [0.9, 0.4, 0.2, 0.6, 0.8, 0.1, 0.45, 0.3]
    base = fairness_report(y, pred, groups, column="group", group_names=("A", EVIL),
                           classes=("declined", "approved"), scores=scores)
    fixed = fairness_report(y, [1, 0, 0, 1, 1, 0, 1, 0], groups, column="group",
                            group_names=("A", EVIL), classes=("declined", "approved"),
                            scores=scores, label="per-group thresholds")
    fixed.thresholds = {"A": 0.55, EVIL: 0.4}
    return FairnessEvaluation("group", [base, fixed], "none")


def _card():
    project = load_template("fairness")
    project.title = f"Loans {EVIL}"
    project.meta["intended_use"] = f"Only for class. {EVIL}"
    return card_from_results(
        project, metrics={"val": {"accuracy": 0.9}, "test": {"accuracy": 0.87, "loss": 0.3}},
        fairness=[_evaluation()],
        comparisons=[{"run": "Run 1", "mitigation": "unmitigated", "accuracy": 0.87,
                      "dp_difference": 0.23, "dp_ratio": 0.5, "eo_difference": 0.06}],
        examples={"train": 60, "val": 20, "test": 20}, dataset_description="synthetic loans",
        trained="completed: Completed 20 epochs.")


def test_the_card_has_every_section_in_both_formats():
    card = _card()
    md, page = to_markdown(card), to_html(card)
    for section in SECTIONS:
        assert f"\n## {section}\n" in md
        assert f"<h2>{section}</h2>" in page
    assert "| A | 4 |" in md  # the per-group table
    assert "demographic-parity difference" in md and "equalised-odds difference" in md
    assert "0.870" in md and "226" in md  # test accuracy, parameters
    assert "Only for class." in md
    assert f"nnstudio {card.version}" in md and card.date in md
    assert "| lr | 0.01 |" in md and "| reweight |" not in md  # the project's own settings


def test_every_person_typed_string_is_escaped():
    card = _card()
    page = to_html(card)
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "<title>Model card: Loans &lt;script&gt;" in page
    md = to_markdown(card)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert re.search(r"^<(?!/?(h\d|p|table|ul|li))", md, re.MULTILINE) is None


def test_an_untrained_project_gets_a_card_that_says_so(tmp_path):
    card = card_from_run_folder(load_template("fairness"), tmp_path / "missing")
    md = to_markdown(card)
    assert "None: the model has not been trained." in md
    assert "has not been trained yet" in md
    assert format_for("x.HTML") == "html" and format_for("card.md") == "md"


def test_train_prints_the_per_group_table_and_card_writes_it(tmp_path, capsys):
    path = tmp_path / "fair.nnstudio"
    save_project(load_template("fairness"), path)
    rc = main(["train", str(path), "--epochs", "3", "--device", "cpu",
               "--set", "n_samples=2000"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "per-group metrics on the test split (as trained), sensitive column 'group'" in out
    assert re.search(r"^  A +\d+ +0\.\d{3}", out, re.MULTILINE)
    assert re.search(r"^  B +\d+", out, re.MULTILINE)
    assert "demographic-parity difference" in out
    assert "with per-group thresholds chosen on validation (A " in out
    assert out.rstrip().splitlines()[-1].startswith("final ")  # final lines stay last
    run_dir = tmp_path / "fair-run"
    saved = json.loads((run_dir / "fairness.json").read_text())
    assert saved["columns"][0]["column"] == "group"
    assert json.loads((run_dir / "run.json").read_text())["examples"]["test"] == 400

    rc = main(["card", str(path), "-o", str(tmp_path / "card.md")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    md = (tmp_path / "card.md").read_text()
    for section in SECTIONS:
        assert f"## {section}" in md
    assert "| A | " in md and "per-group thresholds" in md
    rc = main(["card", str(path), "-o", str(tmp_path / "card.html"),
               "--intended-use", "<i>demo</i>"])
    assert rc == 0
    page = (tmp_path / "card.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "&lt;i&gt;demo&lt;/i&gt;" in page


def test_reweight_flag_and_card_errors(tmp_path, capsys):
    path = tmp_path / "fair.nnstudio"
    save_project(load_template("fairness"), path)
    rc = main(["train", str(path), "--epochs", "1", "--device", "cpu", "--reweight",
               "group_label", "--set", "n_samples=600", "--out", str(tmp_path / "rw")])
    capsys.readouterr()
    assert rc == 0
    record = json.loads((tmp_path / "rw" / "fairness.json").read_text())
    assert record["columns"][0]["reweight"] == "group_label"
    (tmp_path / "rw" / "fairness.json").write_text("[1]")
    rc = main(["card", str(path), "--run", str(tmp_path / "rw"), "-o", str(tmp_path / "c.md")])
    assert rc == 1 and "fairness.json" in capsys.readouterr().err
    rc = main(["card", str(path), "-o", str(tmp_path / "nowhere" / "c.md")])
    assert rc == 1 and "no such folder" in capsys.readouterr().err
    rc = main(["card", str(path), "-o", str(Path(tmp_path, "c.md"))])
    captured = capsys.readouterr()
    assert rc == 0 and "no finished run" in captured.err
