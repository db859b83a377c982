"""A reproducibility bundle (``--format bundle``): one folder that says how a run was made.

    bundle/
      README.md          how to reproduce the run, and what it should give
      project.nnstudio   the drawing, its data set and its settings
      model.py           the model's source (what Export writes)
      train.py           the standalone training script (plus train.data.pt when the
                         data set is not one the script can make itself)
      weights.pt         the trained weights (load into model.py's class)
      metrics.csv        one row per epoch;  metrics.json: the final metrics
      manifest.json      seed, data fingerprint, settings, package versions, file hashes
      requirements.txt   the exact versions of the packages the script imports

The run is either a finished ``nnstudio train`` folder (``run_dir``; its settings and
data set must be the project's) or made now with the trainer.  The script reproduces
it: ``python train.py`` on the same package versions gives the metrics in
``metrics.json`` (the tests do exactly that).  The folder appears whole or not at all:
it is assembled beside its destination and renamed into place.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nnstudio import __version__
from nnstudio.export.python_source import ExportError
from nnstudio.export.script import prepare_for_script, render_script
from nnstudio.export.staging import ExportCancelled
from nnstudio.graph.codegen import generate
from nnstudio.graph.document import Project
from nnstudio.graph.project_file import save_project
from nnstudio.graph.weights import WeightsError, load_weights, save_weights
from nnstudio.train.callbacks import Callback, StepInfo
from nnstudio.train.control import RunControl
from nnstudio.train.project_run import RunSetupError, train_config

PACKAGES = ("torch", "numpy", "scikit-learn")
# settings a finished run may differ in from the project's and still be the project's run
_SETTINGS_THAT_KEEP_RESULTS = {"device", "activations"}


@dataclass(frozen=True)
class BundleResult:
    path: Path
    files: list[str]
    final: dict[str, float] = field(default_factory=dict)
    trained_now: bool = False


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (and Python's), "not installed" where missing."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["nnstudio"] = __version__
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_bundle(project: Project, out_dir: str | os.PathLike, *, graph: str | None = None,
                  run_dir: str | os.PathLike | None = None,
                  project_path: str | os.PathLike | None = None,
                  callbacks: Sequence[Callback] = (), force: bool = False,
                  progress: Callable[[float, float, str], bool | None] | None = None
                  ) -> BundleResult:
    """Write the bundle of ``project``'s run to the folder ``out_dir`` (see above).

    ``run_dir`` is a folder ``nnstudio train`` left (run.json, weights.pt,
    metrics.csv); without it the project is trained now, reporting to ``callbacks``.
    ``out_dir`` must not exist, or be empty, unless ``force``.  ``progress(done, total,
    text)`` hears about the training steps and may answer False to stop: the run stops
    between two steps and :class:`ExportCancelled` is raised, nothing written.  Raises
    ExportError.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ExportError(f"{out}: the folder is not empty (use --force to replace it)")
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent}: no such folder")
    try:
        config = train_config(project)
    except RunSetupError as e:
        raise ExportError(str(e)) from None
    prepared = prepare_for_script(project, graph, progress=progress)
    parts = render_script(prepared, "train.py",
                          Path(project_path).name if project_path else project.title)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        stage = Path(tmp) / "bundle"
        stage.mkdir()
        if run_dir is not None:
            run = _finished_run(Path(run_dir), config.to_dict(), prepared.dataset)
            trained_now = False
        else:
            run = _train_now(project, graph, Path(tmp) / "run", callbacks, project_path,
                             progress)
            trained_now = True
        if progress is not None:
            progress(0, 0, f"writing the bundle {out.name}")
        save_project(project, stage / "project.nnstudio")
        (stage / "model.py").write_text(generate(prepared.graph).source, encoding="utf-8")
        (stage / "train.py").write_text(parts.text, encoding="utf-8")
        if parts.data is not None:
            torch.save(parts.data, stage / "train.data.pt")
        save_weights(stage / "weights.pt", run["weights"])
        if run["metrics_csv"] is not None:
            shutil.copyfile(run["metrics_csv"], stage / "metrics.csv")
        metrics = {"final": run["final"], "history": run["history"],
                   "stopped_reason": run["stopped_reason"]}
        _write_json(stage / "metrics.json", metrics)
        versions = package_versions()
        (stage / "requirements.txt").write_text(
            "".join(f"{name}=={versions[name]}\n" for name in PACKAGES
                    if versions[name] != "not installed"), encoding="utf-8")
        manifest = {
            "format": "nnstudio-bundle", "version": 1,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "project": Path(project_path).name if project_path else project.title,
            "graph": prepared.graph.name, "class": parts.class_name,
            "seed": config.seed, "config": config.to_dict(), "loss": parts.loss,
            "dataset": prepared.dataset, "data_fingerprint": parts.fingerprint,
            "data_made_by_script": parts.data is None,
            "versions": versions, "platform": platform.platform(),
            "torch_threads": torch.get_num_threads(),
            "final": run["final"], "trained_now": trained_now,
            "run_config": run.get("config", config.to_dict()),
        }
        (stage / "README.md").write_text(_readme(manifest), encoding="utf-8")
        manifest["files"] = {p.name: _sha256(p) for p in sorted(stage.iterdir())}
        _write_json(stage / "manifest.json", manifest)
        if out.exists():
            shutil.rmtree(out)
        os.replace(stage, out)
    files = sorted(p.name for p in out.iterdir())
    return BundleResult(out, files, dict(run["final"]), trained_now)


class _StepProgress(Callback):
    """Training steps to a ``progress`` callback; a False answer stops the run."""

    def __init__(self, progress: Callable[[float, float, str], bool | None],
                 control: RunControl):
        self.progress = progress
        self.control = control

    def on_step(self, s: StepInfo) -> None:
        text = f"training for the bundle: epoch {s.epoch}, loss {s.loss:.4g}"
        if self.progress(s.global_step, s.total_steps, text) is False:
            self.control.stop()


def _train_now(project: Project, graph: str | None, folder: Path,
               callbacks: Sequence[Callback], project_path,
               progress: Callable[[float, float, str], bool | None] | None = None
               ) -> dict[str, Any]:
    from nnstudio.train.headless import train_project

    control = RunControl()
    callbacks = list(callbacks)
    if progress is not None:
        if progress(0, 0, "loading the data set to train for the bundle") is False:
            raise ExportCancelled("the bundle was cancelled")
        callbacks.append(_StepProgress(progress, control))
    try:
        run = train_project(project, folder, graph=project.graph(graph) if graph else None,
                            callbacks=callbacks, control=control, project_path=project_path)
    except RunSetupError as e:
        raise ExportError(f"cannot train for the bundle: {e}") from None
    if control.stopped:
        raise ExportCancelled("the bundle was cancelled")
    result = run.result
    if result.stopped_reason not in ("completed", "early_stopping"):
        raise ExportError(f"the run for the bundle did not finish: {result.message}")
    return {"weights": run.prepared.model.state_dict(), "final": run.final_metrics,
            "history": result.history, "stopped_reason": result.stopped_reason,
            "metrics_csv": folder / "metrics.csv" if (folder / "metrics.csv").is_file() else None}


def _finished_run(folder: Path, config: Mapping[str, Any], dataset: Mapping[str, Any]
                  ) -> dict[str, Any]:
    record_path = folder / "run.json"
    if not record_path.is_file():
        raise ExportError(f"{folder}: not a run folder of 'nnstudio train' (no run.json)")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ExportError(f"{record_path}: cannot read it ({e})") from None
    ran = record.get("config") or {}
    differ = sorted(k for k in set(ran) | set(config)
                    if k not in _SETTINGS_THAT_KEEP_RESULTS and ran.get(k) != config.get(k))
    if differ:
        raise ExportError(f"{folder} was trained with other settings than the project's "
                          f"({', '.join(differ)}); train it again (nnstudio train) or bundle "
                          "without --run")
    if (record.get("dataset") or {}) != dict(dataset):
        raise ExportError(f"{folder} was trained on another data set than the project's")
    if record.get("stopped_reason") not in ("completed", "early_stopping"):
        raise ExportError(f"{folder}: its run did not finish ({record.get('message', '?')})")
    try:
        weights = load_weights(folder / "weights.pt")
    except WeightsError as e:
        raise ExportError(str(e)) from None
    csv_path = folder / "metrics.csv"
    return {"weights": weights, "final": dict(record.get("final") or {}),
            "history": [], "stopped_reason": record["stopped_reason"], "config": ran,
            "metrics_csv": csv_path if csv_path.is_file() else None}


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def _readme(m: Mapping[str, Any]) -> str:
    versions = m["versions"]
    pins = " ".join(f"{name}=={versions[name]}" for name in PACKAGES
                    if versions[name] != "not installed")
    finals = "\n".join(f"| {name} | {value:.6g} |" for name, value in m["final"].items())
    data = ("the script makes the data set itself (scikit-learn / numpy), from the seed"
            if m["data_made_by_script"] else
            "the data set, split and normalised, is in train.data.pt")
    cfg = m["config"]
    dataset = f"`{m['dataset'].get('name')}`; fingerprint (sha256 of the raw data) " \
              f"`{m['data_fingerprint']}`"
    recipe = f"{cfg['recipe']}, loss {m['loss']}, {cfg['optimizer']} lr {cfg['lr']:g}, " \
             f"batch {cfg['batch_size']}, {cfg['epochs']} epochs"
    return f"""# Reproducibility bundle: {m['class']} ({m['project']})

Made by nnstudio {versions['nnstudio']} on {m['created']}.

| | |
|---|---|
| model | `{m['class']}` in `model.py` (graph “{m['graph']}”) |
| data set | {dataset} |
| recipe | {recipe} |
| seed | {m['seed']} |
| Python | {versions['python']} on {m['platform']} |
| packages | {', '.join(f'{k} {v}' for k, v in versions.items() if k != 'python')} |

## Reproduce the run

    python -m venv venv && . venv/bin/activate
    pip install {pins}
    python train.py --out run

On one process, with these versions, `run/final.json` gives the metrics below
(`metrics.json`); {data}.  The run is deterministic on the CPU: same seed, same split,
same initial weights, same batches.  Other package versions or a GPU may change the
last digits.  With nnstudio instead: `nnstudio train project.nnstudio --out run`.

To train on several processes (DistributedDataParallel; the metrics then differ in
the last digits from the one-process run):

    torchrun --nproc_per_node=2 train.py --out run

## Final metrics

| metric | value |
|---|---|
{finals}

## Files

- `project.nnstudio` — the project; `model.py` — the model's source;
  `weights.pt` — its trained weights:
  `model.load_state_dict(torch.load("weights.pt", weights_only=True))`
- `train.py` — the training script; `metrics.csv`, `metrics.json` — the run's metrics
- `manifest.json` — all of the above as data, with each file's sha256
- `requirements.txt` — the exact package versions
"""
