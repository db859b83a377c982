"""The roadmap benchmark keeps running: its quick path trains two templates, and a
template that is missing, needs files or does not report the metric is a row, not a crash."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "roadmap_outcomes.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("roadmap_outcomes_under_test", _BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()


def test_the_quick_path_trains_two_templates_and_prints_the_table(capsys):
    rows = bench.main(["--quick", "--only", "perceptron", "mlp"])
    out = capsys.readouterr().out
    assert [r["template"] for r in rows] == ["perceptron", "mlp"]
    assert [r["metric"] for r in rows] == ["test accuracy", "validation accuracy"]
    for r in rows:
        assert 0.0 <= r["value"] <= 1.0 and r["seconds"] > 0
        assert r["ok"] is None  # one epoch: reported, not judged
    assert rows[1]["target"] == "≥ 97%, < 10 s"
    assert "| template | metric | value | target | seconds | result |" in out
    assert f"| perceptron | test accuracy | {rows[0]['value']:.2%} | ≥ 95% |" in out
    assert "load average:" in out
    combined = bench.summary(rows)
    assert combined[0]["figure"] == "perceptron: test accuracy"
    assert combined[0]["shown"].startswith(f"{rows[0]['value']:.2%} in ")


def test_missing_templates_files_and_metrics_are_rows_not_crashes():
    missing = bench.measure(bench.Target("no-such-template", "test.accuracy", ">=", 0.9),
                            quick=True)
    assert missing["shown"] == "missing (no such template yet)" and missing["ok"] is None
    files = bench.measure(bench.Target("lenet5", "test.accuracy", ">=", 0.9), quick=True)
    assert files["shown"].startswith("needs the person's files (dataset 'mnist': path)")
    assert files["ok"] is None
    unreported = bench.measure(bench.Target("perceptron", "test.modes_covered", ">=", 7),
                               quick=True)
    assert unreported["shown"].startswith("not reported (the run reported train.loss")
    assert unreported["ok"] is False


def test_a_full_run_judges_the_bound_and_the_time():
    t = bench.Target("char-rnn", "val.loss", "<=", 2.0, max_seconds=120.0)
    assert bench._row(t, "val.loss", 1.9, 100.0)["ok"] is True
    assert bench._row(t, "val.loss", 1.9, 130.0)["ok"] is False
    assert bench._row(t, "val.loss", 2.1, 100.0)["ok"] is False
    assert bench._row(t, "val.loss", 1.9, 100.0, quick=True)["ok"] is None
    assert bench._row(t, "val.loss", math.nan, 1.0)["ok"] is False
    gain = bench.Target("transfer-digits", bench.TRANSFER, ">=", 0.10, unit="pt")
    row = bench._row(gain, bench.TRANSFER, 0.153, 30.0)
    assert row["ok"] is True and row["shown"] == "+15.3 points"
    assert row["target"] == "≥ 10 points"
