"""Export a project as a standalone training script (``--format script``).

The script is one readable file: the model class exactly as Export writes it, the
project's hyperparameters as a ``CONFIG`` dict, the data set's loading and split, the
recipe's loss and metrics, and a training loop that runs as ``python train.py`` on one
process or unchanged as ``torchrun --nproc_per_node=N train.py`` with
DistributedDataParallel.  It imports nothing from nnstudio.

Data sets that scikit-learn ships or that nnstudio generates from a seed are made by
the script itself (numpy and scikit-learn); any other data set (a person's CSV, image
folders, MNIST files, text) is written, split and normalised as nnstudio trained on it,
to ``<script>.data.pt`` beside the script, which it loads with ``weights_only=True``.
Either way the data's fingerprint is in the script, so a changed data set is noticed.

On one process, the script's run is the app's run: same seed handling as
:func:`nnstudio.train.project_run.prepare_run` and :class:`~nnstudio.train.Trainer`
(the model is built after ``torch.manual_seed(seed)`` and the data; every epoch
reseeds from ``blake2b(seed, epoch)``), so it ends with the same metrics.
"""

from __future__ import annotations

import io
import os
import pprint
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nnstudio import __version__
from nnstudio.data import DatasetError, get_dataset
from nnstudio.data.sklearn_sets import parse_classes
from nnstudio.export import script_template as T
from nnstudio.export.python_source import ExportError
from nnstudio.graph.codegen import GeneratedCode
from nnstudio.graph.document import GraphError, Project
from nnstudio.graph.project_file import atomic_write
from nnstudio.train._modes import eval_mode
from nnstudio.train.project_run import PreparedRun, RunSetupError, prepare_run
from nnstudio.train.recipes import create_recipe

RECIPES = ("classification", "regression")
# data sets the script makes itself: name -> the piece of script_template.RAW
MADE_BY_SCRIPT = {"digits": "digits", "iris": "table", "wine": "table",
                  "breast-cancer": "table", "diabetes": "table", "moons": "moons",
                  "circles": "circles", "blobs": "blobs", "spiral": "spiral", "xor": "xor"}
_TABLE_LOADERS = {"iris": ("load_iris", ""), "wine": ("load_wine", ""),
                  "breast-cancer": ("load_breast_cancer", ""),
                  "diabetes": ("load_diabetes", "scaled=False")}
_LOSS_LINES = {
    "cross_entropy": ("return F.cross_entropy(out, y, reduction=reduction)",
                      "return out.argmax(dim=-1)"),
    "nll": ("return F.nll_loss(out, y, reduction=reduction)", "return out.argmax(dim=-1)"),
    "bce": (("return F.binary_cross_entropy_with_logits(out.reshape(-1), y.to(out.dtype), "
             "reduction=reduction)"), "return (out.reshape(-1) > 0).long()"),
    "bce_prob": (("return F.binary_cross_entropy(out.reshape(-1), y.to(out.dtype), "
                  "reduction=reduction)"), "return (out.reshape(-1) > 0.5).long()"),
    "mse": ("return F.mse_loss(out, y, reduction=reduction)", ""),
    "l1": ("return F.l1_loss(out, y, reduction=reduction)", ""),
    "huber": ("return F.huber_loss(out, y, reduction=reduction)", ""),
}
# the TrainConfig fields the script reads
_CONFIG_KEYS = ("recipe", "loss", "optimizer", "lr", "momentum", "nesterov", "weight_decay",
                "batch_size", "epochs", "schedule", "step_size", "gamma", "grad_clip", "seed",
                "device", "early_stopping_patience", "monitor", "monitor_mode", "eval_every")


@dataclass(frozen=True)
class ScriptResult:
    path: Path
    class_name: str
    dataset: str
    recipe: str
    loss: str
    data_path: Path | None  # the data file beside the script, for data sets it cannot make
    fingerprint: str


@dataclass
class ScriptParts:
    """Everything :func:`render_script` needs, worked out from a prepared run."""

    text: str
    data: dict[str, Any] | None  # the data file's content, when the script cannot make the data
    class_name: str
    loss: str
    dataset: str
    fingerprint: str


def render_script(prepared: PreparedRun, script_name: str = "train.py",
                  project_label: str = "") -> ScriptParts:
    """The text of the training script for ``prepared`` (a one-graph run)."""
    config = prepared.config
    if config.recipe not in RECIPES:
        raise ExportError(f"the training script covers the {' and '.join(RECIPES)} recipes; "
                          f"this project uses '{config.recipe}'")
    if getattr(config, "reweight", "none") != "none":
        raise ExportError("the training script does not re-weight examples by group "
                          f"(reweight={config.reweight!r}); set reweight to none to export it")
    if len(prepared.codes) != 1:
        raise ExportError("the training script trains one graph")
    code = prepared.code
    splits = prepared.splits
    info = splits.info
    loss = _resolve_loss(prepared)
    name = prepared.dataset["name"]
    made = name in MADE_BY_SCRIPT
    stem = Path(script_name).stem
    cfg = {key: getattr(config, key) for key in _CONFIG_KEYS}
    cfg.update(loss=loss, monitor=config.monitor_metric, monitor_mode=config.monitor_direction)
    dataset = _dataset_settings(prepared) if made else {"name": name}
    frozen = [code.attrs[n.id] for n in prepared.graph.nodes
              if n.frozen and n.id in code.attrs and n.type not in ("Input", "Output")
              and _has_module(prepared.model, code.attrs[n.id])]
    needs = "PyTorch, numpy and scikit-learn (for the data)" if made else "PyTorch alone"
    fills = {
        "CLASS": code.class_name, "VERSION": __version__,
        "DATASET_TITLE": _dataset_title(name),
        "PROJECT": _docstring_text(project_label or "(unsaved)"),
        "RECIPE": config.recipe, "LOSS": loss, "LOSS_REPR": repr(loss),
        "OPTIMIZER": config.optimizer,
        "LR": f"{config.lr:g}", "BATCH": str(config.batch_size), "EPOCHS": str(config.epochs),
        "SEED": str(config.seed), "SCRIPT": _docstring_text(script_name),
        "STEM": _docstring_text(stem), "NEEDS": needs,
        "NUMPY_IMPORT": "import numpy as np\n" if made else "",
        "CONFIG": _literal(cfg), "DATASET": _literal(dataset),
        "FINGERPRINT": repr(splits.fingerprint), "FROZEN": repr(frozen),
        "MODEL_SOURCE": model_source(code), "RUN_DIR": repr(f"{stem}-run"),
        "KIND": repr(info.kind), "CLASSES": repr(list(info.classes)),
        "LOSS_LINE": _LOSS_LINES[loss][0], "PREDICT_LINE": _LOSS_LINES[loss][1],
        "DATA_FILE": repr(f"{stem}.data.pt"),
    }
    if made:
        piece = MADE_BY_SCRIPT[name]
        raw = T.RAW[piece]
        if piece == "table":
            loader, args = _TABLE_LOADERS[name]
            raw = raw.replace("{{LOADER}}", repr(loader)).replace("{{LOADER_ARGS}}", args)
        data_code = T.SPLITS + raw
    else:
        data_code = T.DATA_FILE
    task = T.CLASSIFICATION if config.recipe == "classification" else T.REGRESSION
    text = T.HEADER + T.MODEL + task + data_code + T.TRAINING
    for key, value in fills.items():
        text = text.replace("{{" + key + "}}", value)
    data = None if made else _data_file(prepared)
    return ScriptParts(text, data, code.class_name, loss, name, splits.fingerprint)


def export_script(project: Project, out_path: str | os.PathLike, *, graph: str | None = None,
                  project_path: str | os.PathLike | None = None,
                  dataset: Mapping[str, Any] | None = None,
                  config_overrides: Mapping[str, Any] | None = None,
                  progress: Callable[[int, int, str], bool | None] | None = None
                  ) -> ScriptResult:
    """Write the training script for ``project`` to ``out_path`` (and its data file).

    Loads the project's data set (to check the model against it and to fingerprint
    it), telling ``progress`` as the data registry does (False stops the load); raises
    ExportError before writing anything when the project cannot be trained or its
    recipe is not one the script covers.
    """
    out_path = Path(out_path)
    if out_path.suffix != ".py":
        raise ExportError(f"{out_path.name}: the training script needs a name ending in .py")
    prepared = prepare_for_script(project, graph, dataset, config_overrides, progress)
    label = Path(project_path).name if project_path else project.title
    parts = render_script(prepared, out_path.name, label)
    data_path = None
    if parts.data is not None:
        data_path = out_path.with_name(f"{out_path.stem}.data.pt")
        buffer = io.BytesIO()
        torch.save(parts.data, buffer)
        atomic_write(data_path, buffer.getvalue())
    atomic_write(out_path, parts.text.encode("utf-8"))
    return ScriptResult(out_path, parts.class_name, parts.dataset, prepared.config.recipe,
                        parts.loss, data_path, parts.fingerprint)


def prepare_for_script(project: Project, graph: str | None = None,
                       dataset: Mapping[str, Any] | None = None,
                       config_overrides: Mapping[str, Any] | None = None,
                       progress: Callable[[int, int, str], bool | None] | None = None
                       ) -> PreparedRun:
    """The project's run prepared as the trainer would (data loaded, model compiled)."""
    try:
        g = project.graph(graph) if graph is not None else None
        with torch.random.fork_rng(devices=[]):
            return prepare_run(project, graph=g, dataset=dataset,
                               config_overrides=config_overrides, progress=progress)
    except (RunSetupError, GraphError) as e:
        raise ExportError(f"cannot write a training script: {e}") from None


# ----------------------------------------------------------------------------- pieces
def _docstring_text(text: str) -> str:
    """A person's text (a project title, a file name) as one line inside the script's
    docstring: no quote or backslash that could end it, no newline, no template mark,
    so nothing in it can ever run."""
    printable = "".join(c if c.isprintable() else " " for c in str(text))
    line = " ".join(printable.split())
    return line.replace("\\", "/").replace('"', "'").replace("{{", "{ {")[:200]


def model_source(code: GeneratedCode) -> str:
    """The generated file without its docstring, imports and ``__main__`` example."""
    source = code.source.split('\n\nif __name__ == "__main__":')[0]
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("from torch import nn"))
    return "\n".join(lines[start + 1:]).strip("\n") + "\n"


def _resolve_loss(prepared: PreparedRun) -> str:
    """The loss the trainer would use ("auto" decided from the model's output)."""
    recipe = create_recipe(prepared.config, prepared.splits.info)
    model = prepared.model
    with torch.random.fork_rng(devices=[]), eval_mode(model), torch.no_grad():
        sample = recipe.sample_output(model, prepared.splits.train.x[:2])
    problems = recipe.prepare(model, sample)
    if problems:
        raise ExportError(f"the model does not fit the {prepared.config.recipe} task: "
                          + "; ".join(problems))
    return recipe.loss_name


def _dataset_settings(prepared: PreparedRun) -> dict[str, Any]:
    spec = dict(prepared.dataset)
    name = spec.pop("name")
    try:
        entry = get_dataset(name)
        own = entry.resolve({k: v for k, v in spec.items()
                             if k not in ("seed", "val_fraction", "test_fraction", "normalise")})
    except DatasetError as e:
        raise ExportError(str(e)) from None
    out: dict[str, Any] = {"name": name}
    if "seed" in spec:  # the person fixed the data's seed: it no longer follows the run's
        out["seed"] = spec["seed"]
    out["val_fraction"] = float(spec.get("val_fraction", 0.2))
    out["test_fraction"] = float(spec.get("test_fraction", 0.2))
    out["normalise"] = bool(spec.get("normalise", True))
    if name == "digits":
        out["keep_classes"] = list(parse_classes(own["classes"]))
        out["per_class"] = own["per_class"]
    else:
        out.update(own)
    return out


def _data_file(prepared: PreparedRun) -> dict[str, Any]:
    s = prepared.splits
    data: dict[str, Any] = {"fingerprint": s.fingerprint, "dataset": prepared.dataset["name"]}
    for name in ("train", "val", "test"):
        split = getattr(s, name)
        data[f"{name}_x"] = split.x.detach().cpu().contiguous()
        data[f"{name}_y"] = split.y.detach().cpu().contiguous()
    return data


def _has_module(model, attr: str) -> bool:
    return isinstance(getattr(model, attr, None), torch.nn.Module)


def _dataset_title(name: str) -> str:
    try:
        return f"{get_dataset(name).title} ('{name}')"
    except DatasetError:
        return f"'{name}'"


def _literal(value: Mapping[str, Any]) -> str:
    """A dict as Python source, one key per line, readable in the script."""
    lines = [f"    {key!r}: {pprint.pformat(item, width=80)}," for key, item in value.items()]
    return "{\n" + "\n".join(lines) + "\n}"

