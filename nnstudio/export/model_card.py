"""A model card (Mitchell et al., 2019), in Markdown or HTML, filled from a project.

A card says what the model is, what it is for, what it was trained on and how, how
well it does overall and for each group of people, how far apart the groups are
(the fairness gaps), what was done about it, and what it cannot be trusted with.

:class:`ModelCard` holds the facts; :func:`card_from_run_folder` fills it from a
project and the run folder ``nnstudio train`` leaves (``run.json`` and, for a data set
with sensitive columns, ``fairness.json``); :func:`card_from_results` fills it from a
run held in memory (the window).  The card is first laid out as neutral blocks
(headings, paragraphs, tables, lists) and then written as Markdown or HTML, so both
formats always say the same.  Every string that a person typed (title, description,
intended use, names, dataset options) is HTML-escaped in both formats, so a card
never carries markup or script from a project file.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnstudio import __version__
from nnstudio.export import card_regression
from nnstudio.graph import fmt_shape, infer_shapes
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.project_file import atomic_write
from nnstudio.train.fairness import DEFINITIONS, GAP_NAMES, GAP_TITLES
from nnstudio.train.fairness_run import FairnessEvaluation

RUN_FILE, FAIRNESS_FILE = "run.json", "fairness.json"
SMALL_GROUP = 30  # fewer test examples than this make a group's figures uncertain
_SPLITS = ("train", "val", "test")
_SPLIT_TITLES = {"train": "training", "val": "validation", "test": "test"}


class CardError(ValueError):
    """The card cannot be made; the message says why in one line."""


@dataclass
class ModelCard:
    """Everything a card says.  ``metrics`` maps split -> metric -> value."""

    title: str
    description: str = ""
    intended_use: str = ""
    model_name: str = ""
    layers: list[tuple[str, str, str, str]] = field(default_factory=list)
    total_params: int | None = None
    dataset: dict[str, Any] = field(default_factory=dict)
    dataset_description: str = ""
    examples: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    trained: str = ""  # how the run ended ("" when there is none)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    fairness: list[FairnessEvaluation] = field(default_factory=list)
    # mitigations side by side: {"run": ..., "mitigation": ..., "accuracy": ..., gaps...}
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)  # a person's own, then generated
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())
    version: str = __version__


# ======================================================================= filling
def model_summary(graph: Graph) -> tuple[list[tuple[str, str, str, str]], int | None]:
    """(name, type, output shape, parameters) per layer, and the total (None on errors)."""
    result = infer_shapes(graph)
    rows = []
    for nid in graph.topological_order():
        node = graph.node(nid)
        ports = node.spec.output_ports(node.params)
        if ports:
            shape = ", ".join(fmt_shape(result.output_shape(nid, p.name)) for p in ports)
        else:
            shape = ", ".join(fmt_shape(s) for s in result.input_shapes(graph, nid))
        count = str(result.param_counts.get(nid, "?"))
        rows.append((node.name, node.type, shape, count + (" (frozen)" if node.frozen else "")))
    return rows, (None if result.all_errors() else result.total_params)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _base_card(project: Project, graph: Graph, intended_use: str | None) -> ModelCard:
    layers, total = model_summary(graph)
    return ModelCard(
        title=project.title, description=project.description,
        intended_use=intended_use if intended_use is not None else _text(
            project.meta.get("intended_use")),
        model_name=graph.name, layers=layers, total_params=total,
        dataset=dict(project.training.get("dataset") or {}),
        config=dict(project.training.get("config") or {}),
    )


def card_from_results(project: Project, *, graph: Graph | None = None,
                      dataset: Mapping[str, Any] | None = None,
                      config: Mapping[str, Any] | None = None,
                      metrics: Mapping[str, Mapping[str, float]] | None = None,
                      fairness: Sequence[FairnessEvaluation] = (),
                      comparisons: Sequence[Mapping[str, Any]] = (),
                      examples: Mapping[str, int] | None = None,
                      dataset_description: str = "", trained: str = "",
                      intended_use: str | None = None) -> ModelCard:
    """A card for ``graph`` (default: the project's first) from a run held in memory.

    ``dataset`` and ``config`` default to the project's training section;
    ``intended_use`` to the project's ``meta["intended_use"]``.
    """
    graph = graph if graph is not None else project.graph()
    card = _base_card(project, graph, intended_use)
    if dataset is not None:
        card.dataset = dict(dataset)
    if config is not None:
        card.config = dict(config)
    card.metrics = {s: dict(m) for s, m in (metrics or {}).items()}
    card.fairness = list(fairness)
    card.comparisons = [dict(c) for c in comparisons]
    card.examples = dict(examples or {})
    card.dataset_description = dataset_description
    card.trained = trained
    card.limitations = limitations(card, _text(project.meta.get("limitations")))
    return card


def _split_metrics(final: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """run.json's ``{"val_accuracy": 0.9, ...}`` as ``{"val": {"accuracy": 0.9}}``."""
    out: dict[str, dict[str, float]] = {}
    for key, value in final.items():
        split, _, metric = str(key).partition("_")
        if split in _SPLITS and metric and isinstance(value, (int, float)):
            out.setdefault(split, {})[metric] = float(value)
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CardError(f"{path}: cannot read it ({e})") from None
    if not isinstance(data, dict):
        raise CardError(f"{path}: expected a JSON object")
    return data


def card_from_run_folder(project: Project, run_dir: str | os.PathLike[str] | None, *,
                         graph: Graph | None = None,
                         intended_use: str | None = None) -> ModelCard:
    """A card for ``graph`` (default: the one the run trained, else the project's first)
    from the run folder of ``nnstudio train``; a missing folder gives a card that says
    the model has not been trained.  Raises CardError for a damaged record."""
    folder = Path(run_dir) if run_dir is not None else None
    record_path = folder / RUN_FILE if folder is not None else None
    if record_path is None or not record_path.is_file():
        chosen = graph if graph is not None else project.graph()
        card = card_from_results(project, graph=chosen, intended_use=intended_use)
        return card
    record = _read_json(record_path)
    if graph is None:
        name = record.get("graph")
        graph = next((g for g in project.graphs if g.name == name), None) or project.graph()
    fairness = []
    fairness_path = folder / FAIRNESS_FILE
    if fairness_path.is_file():
        try:
            fairness = [FairnessEvaluation.from_dict(c)
                        for c in _read_json(fairness_path).get("columns", [])]
        except (KeyError, TypeError, ValueError) as e:
            raise CardError(f"{fairness_path}: not a fairness record ({e})") from None
    reason = str(record.get("stopped_reason", ""))
    trained = f"{reason}: {record.get('message', '')}".strip(": ") if reason else ""
    return card_from_results(
        project, graph=graph,
        dataset=record.get("dataset") if isinstance(record.get("dataset"), dict) else None,
        config=record.get("config") if isinstance(record.get("config"), dict) else None,
        metrics=_split_metrics(record.get("final") or {}), fairness=fairness,
        comparisons=comparison_rows(fairness, run="this run"),
        examples={k: int(v) for k, v in (record.get("examples") or {}).items()},
        dataset_description=str(record.get("dataset_description", "")), trained=trained,
        intended_use=intended_use)


def comparison_rows(fairness: Sequence[FairnessEvaluation], run: str) -> list[dict[str, Any]]:
    """One row per (report) of the first sensitive column: accuracy beside each gap."""
    if not fairness or fairness[0].regression:  # no mitigation to compare for a regressor
        return []
    ev = fairness[0]
    rows = []
    for report in ev.reports:
        how = "re-weighted" if ev.reweight == "group_label" else "unmitigated"
        if report.label != "as trained":
            how = f"{how} + {report.label}"
        rows.append({"run": run, "mitigation": how, "column": ev.column,
                     "accuracy": report.overall.get("accuracy", float("nan")),
                     **{g: report.gaps.get(g, float("nan")) for g in GAP_NAMES}})
    return rows


def limitations(card: ModelCard, own: str = "") -> list[str]:
    """A person's own limitations (``meta["limitations"]``), then the ones the facts show."""
    out = [own] if own else []
    if not card.trained and not card.metrics:
        out.append("The model has not been trained yet, so the card holds no measured "
                   "figures: train it (nnstudio train FILE) and write the card again.")
    name = str(card.dataset.get("name", ""))
    if name == "lending":
        out.append("Trained and evaluated only on synthetic data generated by nnstudio, "
                   "with a bias planted on purpose; nothing here transfers to real "
                   "applicants.")
    if card.metrics:
        out.append("Accuracy is measured against the data set's labels. Where labels record "
                   "past human decisions, they carry past bias, and a model that repeats "
                   "that bias scores well against them.")
    if card.fairness:
        cols = ", ".join(f"'{ev.column}'" for ev in card.fairness)
        out.append(f"Fairness was measured only across the groups of {cols}; other groups, "
                   "and people at the intersection of several, were not examined.")
        small = sorted({g.name for ev in card.fairness for g in ev.baseline.groups
                        if g.n < SMALL_GROUP})
        if small:
            out.append(f"Group(s) {', '.join(small)} have fewer than {SMALL_GROUP} test "
                       "examples: their figures are uncertain.")
        if any(ev.thresholded is not None for ev in card.fairness):
            out.append("Per-group thresholds use the sensitive attribute when deciding; in "
                       "some settings that is not allowed, and it only equalises rates on "
                       "data like the validation split.")
        if all(ev.regression for ev in card.fairness):
            out.append(card_regression.LIMITATION)
        else:
            out.append("No single number makes a model fair: demographic parity and "
                       "equalised odds cannot in general both hold, and which matters is a "
                       "decision for the people affected, not for the metric.")
    elif card.metrics:
        out.append("No sensitive column was set, so the model was not evaluated per group.")
    return out


# ================================================================== laying out
Block = tuple  # ("h1"|"h2"|"h3", text) ("p", text) ("table", header, rows) ("ul", items)


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if not math.isfinite(value) else f"{value:.3f}" if abs(value) < 1e4 else f"{value:.4g}"


def _config_rows(config: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for key, value in config.items():
        if isinstance(value, dict):  # e.g. the live activation capture: not a hyperparameter
            continue
        rows.append([str(key), f"{value:g}" if isinstance(value, float) else str(value)])
    return rows


def blocks(card: ModelCard) -> list[Block]:
    """The card laid out as neutral blocks (text is plain; writers escape it)."""
    out: list[Block] = [("h1", f"Model card: {card.title}"),
                        ("p", f"Written by nnstudio {card.version} on {card.date}.")]
    out.append(("h2", "Model"))
    if card.description:
        out.append(("p", card.description))
    params = "unknown (the graph has errors)" if card.total_params is None else (
        f"{card.total_params:,}")
    out.append(("p", f"Graph '{card.model_name}', {params} parameters."))
    if card.layers:
        out.append(("table", ["layer", "type", "output shape", "parameters"],
                    [list(r) for r in card.layers]))
    out.append(("h2", "Intended use"))
    out.append(("p", card.intended_use or "Not stated. Say who should use this model, for "
                "what decisions, and for what it must not be used (the project's "
                "intended use)."))
    out += _data_blocks(card)
    out.append(("h2", "Hyperparameters"))
    rows = _config_rows(card.config)
    out.append(("table", ["setting", "value"], rows) if rows else ("p", "Defaults."))
    out += _metric_blocks(card)
    out.append(("h2", "Limitations"))
    out.append(("ul", card.limitations or ["None recorded."]))
    out.append(("p", f"nnstudio {card.version} · {card.date}"))
    return out


def _data_blocks(card: ModelCard) -> list[Block]:
    out: list[Block] = [("h2", "Training data")]
    name = card.dataset.get("name", "not chosen")
    options = ", ".join(f"{k}={v}" for k, v in card.dataset.items() if k != "name")
    out.append(("p", f"Data set '{name}'" + (f" ({options})." if options else ".")))
    if card.dataset_description:
        out.append(("p", card.dataset_description))
    if card.examples:
        total = sum(card.examples.values())
        rows = [[_SPLIT_TITLES.get(s, s), f"{n:,}",
                 f"{n / total:.0%}" if total else "—"] for s, n in card.examples.items()]
        out.append(("table", ["split", "examples", "share"], rows))
        out.append(("p", ("Normalisation statistics and encodings come from the training "
                           "split alone; the test split was used only for the final figures.")))
    sensitive = [ev.column for ev in card.fairness] or [
        s.strip() for s in str(card.dataset.get("sensitive", "")).split(",") if s.strip()]
    if sensitive:
        out.append(("p", "Sensitive column(s): " + ", ".join(sensitive) + ". They were kept out "
                    "of the model's inputs (unless the data set was told otherwise) and used "
                    "only to evaluate it per group."))
    return out


def _metric_blocks(card: ModelCard) -> list[Block]:
    out: list[Block] = [("h2", "Overall metrics")]
    if card.trained:
        out.append(("p", f"Training ended: {card.trained}"))
    splits = [s for s in _SPLITS if s in card.metrics]
    if not splits:
        out.append(("p", "None: the model has not been trained."))
    else:
        names = list(dict.fromkeys(m for s in splits for m in card.metrics[s]))
        rows = [[m] + [_num(card.metrics[s].get(m, float("nan"))) for s in splits]
                for m in names]
        out.append(("table", ["metric"] + [_SPLIT_TITLES[s] for s in splits], rows))
    out.append(("h2", "Per-group metrics"))
    if not card.fairness:
        out.append(("p", "None: no sensitive column was set, or the model was not trained."))
    for ev in card.fairness:
        if ev.regression:
            for report in ev.reports:
                out += card_regression.group_blocks(ev.column, report)
            continue
        for report in ev.reports:
            where = _SPLIT_TITLES.get(report.split, report.split)
            out.append(("h3", f"'{ev.column}' on the {where} split, {report.label}"))
            if report.thresholds:
                out.append(("p", "Thresholds chosen on the validation split: " + ", ".join(
                    f"{g} {t:.3f}" for g, t in report.thresholds.items()) + "."))
            rows = [[g.name, f"{g.n:,}", _num(g.base_rate), _num(g.accuracy), _num(g.tpr),
                     _num(g.fpr), _num(g.selection_rate), _num(g.calibration_error)]
                    for g in report.groups]
            out.append(("table", ["group", "examples", f"share {report.positive_name}",
                                  "accuracy", "TPR", "FPR", "selection rate",
                                  "calibration error"], rows))
            confusions = "; ".join(f"{g.name}: {g.confusion}" for g in report.groups)
            out.append(("p", (f"Confusion matrices (rows true, columns predicted, classes "
                               f"{', '.join(report.classes)}): {confusions}.")))
    out.append(("h2", "Fairness gaps"))
    if not card.fairness:
        out.append(("p", "Not measured."))
    for ev in card.fairness:
        if ev.regression:
            out += card_regression.gap_blocks(ev.column, ev.reports)
            continue
        header = ["gap"] + [r.label for r in ev.reports]
        rows = [[GAP_TITLES[g]] + [_num(r.gaps.get(g, float("nan"))) for r in ev.reports]
                for g in GAP_NAMES]
        out.append(("h3", f"Between the groups of '{ev.column}'"))
        out.append(("table", header, rows))
    if any(ev.regression for ev in card.fairness):
        out.append(("ul", card_regression.definitions()))
    if any(not ev.regression for ev in card.fairness):
        out.append(("ul", [DEFINITIONS[g] for g in ("selection_rate", "tpr", "fpr",
                                                    "dp_difference", "dp_ratio",
                                                    "eo_difference", "eo_ratio")]))
    if card.comparisons:
        out.append(("h2", "Mitigations compared"))
        header = ["run", "mitigation", "accuracy"] + [GAP_TITLES[g] for g in
                                                      ("dp_difference", "dp_ratio",
                                                       "eo_difference")]
        rows = [[str(c.get("run", "")), str(c.get("mitigation", "")), _num(c.get("accuracy"))]
                + [_num(c.get(g, float("nan"))) for g in ("dp_difference", "dp_ratio",
                                                          "eo_difference")]
                for c in card.comparisons]
        out.append(("table", header, rows))
        out.append(("ul", [DEFINITIONS["reweight"], DEFINITIONS["thresholds"]]))
    return out


# ===================================================================== writing
def _md(text: str) -> str:
    return html.escape(str(text), quote=False)


def _md_cell(text: str) -> str:
    return _md(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(card: ModelCard) -> str:
    """The card as Markdown (GitHub flavour: pipe tables)."""
    lines: list[str] = []
    for block in blocks(card):
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + _md(block[1]).replace("\n", " "), ""]
        elif kind == "p":
            lines += [_md(block[1]), ""]
        elif kind == "ul":
            lines += [f"- {_md(item)}".replace("\n", " ") for item in block[1]] + [""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "|".join(" --- " for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.45;color:#1e2126}table{border-collapse:collapse;margin:.5rem 0 1rem}"
        "th,td{border:1px solid #c8ccd2;padding:.25rem .6rem;text-align:left}"
        "th{background:#eef0f3}h1{font-size:1.6rem}h2{margin-top:1.8rem;border-bottom:1px solid "
        "#c8ccd2}h3{font-size:1.05rem}")


def to_html(card: ModelCard) -> str:
    """The card as one self-contained HTML page (no scripts, no external files)."""
    e = html.escape
    body: list[str] = []
    for block in blocks(card):
        kind = block[0]
        if kind in ("h1", "h2", "h3", "p"):
            body.append(f"<{kind}>{e(str(block[1]))}</{kind}>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{e(str(i))}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>"
                           for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{e('Model card: ' + card.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def render(card: ModelCard, fmt: str) -> str:
    """``fmt`` "md" (Markdown) or "html"."""
    if fmt == "html":
        return to_html(card)
    if fmt == "md":
        return to_markdown(card)
    raise CardError(f"unknown card format {fmt!r}: use md or html")


def format_for(path: str | os.PathLike[str]) -> str:
    """"html" for a .html/.htm file name, else "md"."""
    return "html" if Path(path).suffix.lower() in (".html", ".htm") else "md"


def write_card(card: ModelCard, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write the card atomically, as HTML or Markdown by ``fmt`` or the file's suffix."""
    path = Path(path)
    atomic_write(path, render(card, fmt or format_for(path)).encode("utf-8"))
    return path
