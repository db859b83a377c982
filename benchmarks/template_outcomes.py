"""Template outcomes: the shipped templates, trained as shipped, against the roadmap's targets.

Each template trains with its own settings (dataset, epochs, optimizer, seed 0) on the
CPU with one thread, started the way the app and ``nnstudio train`` start a run
(:func:`~nnstudio.train.project_run.prepare_run`, then ``Trainer.fit``).  The
seconds are the wall time of ``fit`` (moving the data, the epochs, the final
evaluations), after one unreported warm-up fit that pays PyTorch's one-time costs.

Targets: the MLP reaches 97 % validation accuracy on the two moons in under 10 s; the
small CNN reaches 97 % test accuracy on the 8x8 digits; the perceptron separates its
two blobs (95 % test accuracy, our own bar).  ``tests/train/test_outcomes.py`` asserts
the accuracies; the times are only reported, here.

A last row times the MLP as a person meets it, ``nnstudio train mlp.nnstudio`` in a new
process (interpreter and PyTorch start-up, data, per-epoch checkpoints, weights); pass
``--quick`` to skip it.

Run: ``python -m benchmarks.template_outcomes [--quick] [--only mlp ...]``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from nnstudio.graph.project_file import save_project
from nnstudio.graph.templates import load_template
from nnstudio.train import Trainer, TrainResult
from nnstudio.train.project_run import prepare_run


@dataclass(frozen=True)
class Outcome:
    template: str
    data: str
    split: str  # "val" or "test"
    metric: str
    minimum: float
    max_seconds: float | None = None  # None: no time target


OUTCOMES = (
    Outcome("perceptron", "two blobs", "test", "accuracy", 0.95),
    Outcome("mlp", "two moons", "val", "accuracy", 0.97, max_seconds=10.0),
    Outcome("cnn-digits", "8x8 digits", "test", "accuracy", 0.97),
)

_SPLIT = {"val": "validation", "test": "test"}


def fit(template: str, **overrides) -> tuple[TrainResult, float]:
    """Train ``template`` as shipped on the CPU; returns the result and the fit's seconds."""
    prepared = prepare_run(load_template(template),
                           config_overrides={"device": "cpu", **overrides})
    t0 = time.perf_counter()
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    return result, time.perf_counter() - t0


def measure(outcome: Outcome) -> list[dict]:
    """Two rows for one template: the metric, and the seconds the fit took."""
    result, seconds = fit(outcome.template)
    name = f"{outcome.template} on {outcome.data}"
    if result.stopped_reason != "completed":
        return [{"figure": f"{name}: training", "value": result.stopped_reason,
                 "shown": result.message, "target": "completes", "ok": False}]
    value = result.metrics[outcome.split][outcome.metric]
    rows = [{
        "figure": f"{name}: {_SPLIT[outcome.split]} {outcome.metric}",
        "value": value, "shown": f"{value:.2%}",
        "target": f">= {outcome.minimum:.0%}", "ok": value >= outcome.minimum,
    }]
    limit = outcome.max_seconds
    rows.append({
        "figure": f"{name}: seconds to train ({result.epochs_completed} epochs, CPU, "
                  f"{torch.get_num_threads()} thread)",
        "value": seconds, "shown": f"{seconds:.2f} s",
        "target": f"< {limit:g} s" if limit is not None else "",
        "ok": seconds < limit if limit is not None else None,
    })
    return rows


def measure_cli(template: str = "mlp", split: str = "val", minimum: float = 0.97,
                max_seconds: float = 10.0) -> dict:
    """The same outcome as a person gets it: ``python -m nnstudio train`` in a fresh
    process, startup, data, checkpoints and weights included."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / f"{template}.nnstudio"
        save_project(load_template(template), project)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        env.pop("NNSTUDIO_ASSETS", None)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nnstudio", "train", str(project),
                               "--device", "cpu"], capture_output=True, text=True, env=env,
                              timeout=600, check=False)
        seconds = time.perf_counter() - t0
    finals = dict(re.findall(r"^final (\w+): (\S+)$", proc.stdout, flags=re.MULTILINE))
    value = float(finals.get(f"{split}_accuracy", "nan"))
    ok = proc.returncode == 0 and value >= minimum and seconds < max_seconds
    return {"figure": f"`nnstudio train {template}.nnstudio` in a new process: seconds, "
                      f"{_SPLIT[split]} accuracy",
            "value": seconds, "shown": f"{seconds:.2f} s, {value:.2%}",
            "target": f"< {max_seconds:g} s, >= {minimum:.0%}", "ok": ok}


def markdown(rows: list[dict]) -> str:
    lines = ["| figure | value | target | ok |", "|---|---:|---|:-:|"]
    for r in rows:
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        lines.append(f"| {r['figure']} | {r['shown']} | {r['target']} | {ok} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Train the templates, print a Markdown table, return its rows."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=[o.template for o in OUTCOMES],
                    help="measure only these templates")
    ap.add_argument("--quick", action="store_true",
                    help="skip the run of `nnstudio train` in a separate process")
    args = ap.parse_args(argv if argv is not None else [])
    torch.set_num_threads(1)
    fit("perceptron", epochs=1)  # warm-up: first-call costs are not the templates' doing
    rows = []
    for outcome in OUTCOMES:
        if args.only is None or outcome.template in args.only:
            rows.extend(measure(outcome))
    if not args.quick and (args.only is None or "mlp" in args.only):
        rows.append(measure_cli("mlp"))
    print(f"## Template outcomes (torch {torch.__version__}, CPU, 1 thread)\n")
    print(markdown(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
