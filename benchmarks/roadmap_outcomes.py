"""Roadmap outcomes: every trainable template, trained as shipped, against the roadmap's targets.

Each template trains with its own settings (dataset, epochs, optimizer, its seed) on
the CPU with one thread, started the way the app and ``nnstudio train`` start a run
(:func:`~nnstudio.train.project_run.prepare_run`, then ``Trainer.fit``).  The seconds
are the wall time of ``fit`` (the epochs and the final evaluations; loading the data
is not counted), after one unreported warm-up fit that pays PyTorch's one-time costs.

The targets (:data:`TARGETS`, one row each: template, metric key of
``TrainResult.metrics``, bound, time limit) are the roadmap's (issue 5): the perceptron
separates its blobs (95 %, our own bar); the MLP passes 97 % validation accuracy on the
moons in under 10 s; the digit CNNs (``cnn-digits``, ``vgg-digits``, ``resnet-digits``)
pass 97 % test accuracy; ``lstm-forecast`` has at most half the seasonal-naive
forecast's test MSE (``naive_ratio`` ≥ 2); ``char-rnn`` gets its validation loss under
2.0 nats a character within 2 minutes; ``transformer`` gets 95 % of its test sequences
entirely right; ``gan-2d``'s generated points cover at least 7 of the 8 modes; the
``vae``'s (and the ``autoencoder``'s) reconstructions have a third of the mean image's
MSE (``baseline_ratio`` ≥ 3); ``transfer-digits`` beats the same network trained from
scratch on the same few examples by 10 points of test accuracy
(:func:`nnstudio.train.transfer_check.compare_with_scratch`, after pretraining
``digits-pretrain``).  Any other template that trains offline is reported without a
target (its challenge's metric, when it has one).  A template named here that does not
exist is reported as missing; one whose data set needs the person's files (MNIST,
an image folder) as not trained here.

``--quick`` trains one epoch of each (a check that every template still trains, not
figures to publish: nothing is judged) and skips the run of ``nnstudio train`` in a
new process that a full run adds for the MLP.

Run: ``python -m benchmarks.roadmap_outcomes [--quick] [--only mlp ...]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from nnstudio.graph.challenge_schema import ChallengeError, challenge_of
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import list_templates, load_template, templates_dir
from nnstudio.train import Trainer, TrainResult
from nnstudio.train.project_run import prepare_run

TRANSFER = "transfer.gain"  # the pseudo-metric of the transfer row: transfer − scratch


@dataclass(frozen=True)
class Target:
    """One row: ``metric`` ("<split>.<name>", or several to take the first reported)
    of ``template``, against ``bound`` (``op`` ">=" or "<="; none: only reported)."""

    template: str
    metric: str | tuple[str, ...]
    op: str = ""
    bound: float | None = None
    max_seconds: float | None = None
    unit: str = ""  # "%": a fraction shown as a percentage; "×": a ratio; "pt": points
    graph: str = ""  # which network of the project trains ("": the first)

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.metric,) if isinstance(self.metric, str) else self.metric


TARGETS = (
    Target("perceptron", "test.accuracy", ">=", 0.95, unit="%"),
    Target("mlp", "val.accuracy", ">=", 0.97, max_seconds=10.0, unit="%"),
    Target("cnn-digits", "test.accuracy", ">=", 0.97, unit="%"),
    Target("vgg-digits", "test.accuracy", ">=", 0.97, unit="%"),
    Target("resnet-digits", "test.accuracy", ">=", 0.97, unit="%"),
    Target("lstm-forecast", "test.naive_ratio", ">=", 2.0, unit="×"),
    Target("char-rnn", "val.loss", "<=", 2.0, max_seconds=120.0),
    Target("gru-sequence", "test.accuracy", unit="%"),
    Target("transformer", "test.sequence_accuracy", ">=", 0.95, unit="%"),
    Target("gan-2d", ("test.modes_covered", "val.modes_covered"), ">=", 7),
    Target("dcgan-digits", ("test.samples_recognised", "val.loss_g"), unit="%"),
    Target("autoencoder", ("test.baseline_ratio", "val.baseline_ratio"), ">=", 3.0, unit="×"),
    Target("vae", ("test.baseline_ratio", "val.baseline_ratio"), ">=", 3.0, unit="×"),
    *(Target("activations", ("val.accuracy", "test.accuracy"), unit="%", graph=f"MLP-{f}")
      for f in ("sigmoid", "tanh", "relu", "gelu")),  # one run per network, as the button
    Target("digits-pretrain", "test.accuracy", unit="%"),
    Target("transfer-digits", TRANSFER, ">=", 0.10, unit="pt"),
    Target("fairness", "test.accuracy", unit="%"),
)
QUICK_ARGS = ["--quick"]
_SPLITS = {"train": "training", "val": "validation", "test": "test"}


# ------------------------------------------------------------------ running one template
def fit(project, graph=None, **overrides) -> tuple[TrainResult, float]:
    """Train ``project`` (its ``graph``, default the first) on the CPU; returns the
    result and the fit's seconds."""
    prepared = prepare_run(project, graph=graph, config_overrides={"device": "cpu", **overrides})
    t0 = time.perf_counter()
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    return result, time.perf_counter() - t0


def needs_files(project) -> str:
    """Which of the person's files the project's data set needs ("" if none)."""
    import nnstudio.data  # noqa: F401  (registers the loaders)
    from nnstudio.data.registry import get_dataset

    spec = project.training.get("dataset") or {}
    entry = get_dataset(spec.get("name", ""))
    missing = [o.name for o in entry.options if o.required and not spec.get(o.name)]
    return f"needs the person's files (dataset '{spec['name']}': {', '.join(missing)})" \
        if missing else ""


def _label(key: str) -> str:
    if key == TRANSFER:
        return "test accuracy gain over training from scratch"
    split, _, name = key.partition(".")
    return f"{_SPLITS.get(split, split)} {name.replace('_', ' ')}"


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{value:.2%}"
    if unit == "pt":
        return f"{value * 100:+.1f} points"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:.4g}"


def _target_text(t: Target) -> str:
    parts = []
    if t.op and t.bound is not None:
        bound = (f"{t.bound * 100:g} points" if t.unit == "pt" else
                 f"{t.bound * 100:g}%" if t.unit == "%" else f"{t.bound:g}{t.unit}")
        parts.append(f"{'≥' if t.op == '>=' else '≤'} {bound}")
    if t.max_seconds is not None:
        parts.append(f"< {t.max_seconds:g} s")
    return ", ".join(parts)


def _row(t: Target, key: str, value: float | None, seconds: float | None, status: str = "",
         quick: bool = False) -> dict:
    ok = None
    if status:  # missing or needing files: nothing to judge; anything else went wrong
        ok = None if status.startswith(("missing", "needs")) else False
    elif not quick and t.op and t.bound is not None and value is not None:
        ok = value >= t.bound if t.op == ">=" else value <= t.bound
        if t.max_seconds is not None and seconds is not None:
            ok = ok and seconds < t.max_seconds
    name = f"{t.template} ({t.graph})" if t.graph else t.template
    return {"template": name, "metric": _label(key), "value": value,
            "shown": status or _shown(value, t.unit), "target": _target_text(t),
            "seconds": seconds, "ok": ok}


def _pick(result: TrainResult, keys: tuple[str, ...]) -> tuple[str, float | None]:
    for key in keys:
        split, _, name = key.partition(".")
        value = result.metrics.get(split, {}).get(name)
        if value is not None:
            return key, float(value)
    return keys[0], None


def measure(t: Target, quick: bool) -> dict:
    """The row of one target: trained, or why not (missing, needs files, failed)."""
    if not (templates_dir() / f"{t.template}.nnstudio").is_file():
        return _row(t, t.keys[0], None, None, "missing (no such template yet)", quick)
    if t.metric == TRANSFER:
        return measure_transfer(t, quick)
    project = load_template(t.template)
    why = needs_files(project)
    if why:
        return _row(t, t.keys[0], None, None, why, quick)
    try:
        result, seconds = fit(project, project.graph(t.graph) if t.graph else None,
                              **({"epochs": 1} if quick else {}))
    except Exception as e:  # noqa: BLE001  (one broken template must not hide the others)
        return _row(t, t.keys[0], None, None, f"error: {type(e).__name__}: {e}", quick)
    if result.stopped_reason == "error":
        return _row(t, t.keys[0], None, seconds, f"error: {result.message}", quick)
    key, value = _pick(result, t.keys)
    if value is None:
        have = ", ".join(f"{s}.{m}" for s, ms in result.metrics.items() for m in ms)
        return _row(t, key, None, seconds, f"not reported (the run reported {have})", quick)
    return _row(t, key, value, seconds, quick=quick)


def measure_transfer(t: Target, quick: bool) -> dict:
    """Pretrain ``digits-pretrain`` in a scratch folder, then train ``transfer-digits``
    on its weights and the same network from scratch; the row holds the gain."""
    try:
        from nnstudio.train.transfer_check import compare_with_scratch, pretrain_block_weights
    except ImportError:
        return _row(t, TRANSFER, None, None, "missing (nnstudio.train.transfer_check)", quick)
    folder = templates_dir()
    if not (folder / "digits-pretrain.nnstudio").is_file():
        return _row(t, TRANSFER, None, None, "missing (no digits-pretrain template)", quick)
    overrides = {"epochs": 1} if quick else {}
    with tempfile.TemporaryDirectory() as tmp:
        # copies of both files side by side, so the transfer block finds the weights that
        # pretraining writes beside "digits-pretrain.nnstudio" (and not in assets/)
        for name in ("digits-pretrain", "transfer-digits"):
            shutil.copyfile(folder / f"{name}.nnstudio", Path(tmp) / f"{name}.nnstudio")
        pre_path = Path(tmp) / "digits-pretrain.nnstudio"
        t0 = time.perf_counter()
        try:
            pretrain_block_weights(load_project(pre_path), pre_path, config_overrides=overrides)
            comparison = compare_with_scratch(load_project(Path(tmp) / "transfer-digits.nnstudio"),
                                              config_overrides=overrides)
        except Exception as e:  # noqa: BLE001  (reported in the table)
            return _row(t, TRANSFER, None, None, f"error: {type(e).__name__}: {e}", quick)
        seconds = time.perf_counter() - t0
    row = _row(t, TRANSFER, comparison.gain, seconds, quick=quick)
    row["shown"] += (f" ({comparison.transfer:.1%} with transfer, {comparison.scratch:.1%} "
                     "from scratch)")
    return row


def others(named: set[str]) -> list[Target]:
    """Templates that no target names: reported by their challenge's metric (no bound)."""
    extra = []
    for info in list_templates():
        if info.name in named:
            continue
        try:
            challenge = challenge_of(load_template(info.name).meta)
        except ChallengeError:
            challenge = None
        key = challenge.key if challenge is not None else ("val.loss", "test.loss")
        extra.append(Target(info.name, key))
    return extra


# ------------------------------------------------------------------ the CLI, end to end
def measure_cli(template: str = "mlp", split: str = "val", minimum: float = 0.97,
                max_seconds: float = 10.0) -> dict:
    """The MLP as a person meets it: ``python -m nnstudio train`` in a fresh process,
    start-up, data, checkpoints and weights included."""
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
    return {"template": f"`nnstudio train {template}.nnstudio` (new process)",
            "metric": f"{_SPLITS[split]} accuracy", "value": value,
            "shown": f"{value:.2%}" if proc.returncode == 0 else f"exit {proc.returncode}",
            "target": f"≥ {minimum:.0%}, < {max_seconds:g} s", "seconds": seconds, "ok": ok}


# ------------------------------------------------------------------ reporting
def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("pass" if ok else "**FAIL**")


def markdown(rows: list[dict]) -> str:
    lines = ["| template | metric | value | target | seconds | result |",
             "|---|---|---:|---|---:|:-:|"]
    for r in rows:
        seconds = "–" if r["seconds"] is None else f"{r['seconds']:.1f}"
        cells = (r["template"], r["metric"], r["shown"], r["target"] or "–", seconds,
                 _verdict(r["ok"]))
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> list[dict]:
    """Rows for ``python -m benchmarks``' combined table."""
    out = []
    for r in rows:
        seconds = "" if r["seconds"] is None else f" in {r['seconds']:.1f} s"
        out.append({"figure": f"{r['template']}: {r['metric']}", "value": r["value"],
                    "shown": f"{r['shown']}{seconds}", "target": r["target"], "ok": r["ok"]})
    return out


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def main(argv: list[str] | None = None) -> list[dict]:
    """Train the templates, print a Markdown table, return its rows."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="TEMPLATE", help="measure only these templates")
    ap.add_argument("--quick", action="store_true",
                    help="one epoch each, nothing judged; no `nnstudio train` process")
    args = ap.parse_args(argv if argv is not None else [])
    torch.set_num_threads(1)
    load_before = _load()
    targets = list(TARGETS) + others({t.template for t in TARGETS})
    if args.only:
        unknown = sorted(set(args.only) - {t.template for t in targets})
        if unknown:
            ap.error(f"no target or template named {', '.join(unknown)}")
        targets = [t for t in targets if t.template in args.only]
    fit(load_template("perceptron"), epochs=1)  # warm-up: first-call costs are not theirs
    rows = []
    for t in targets:
        print(f"training {t.template}…", flush=True)
        rows.append(measure(t, args.quick))
    if not args.quick and (args.only is None or "mlp" in args.only):
        rows.append(measure_cli("mlp"))
    mode = "quick: 1 epoch each, not judged" if args.quick else "as shipped"
    print(f"\n## Roadmap outcomes ({mode}; torch {torch.__version__}, CPU, "
          f"{torch.get_num_threads()} thread)\n")
    print(markdown(rows))
    print(f"\nload average: {load_before} at the start, {_load()} at the end "
          f"({os.cpu_count()} cores)")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
