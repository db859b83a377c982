"""The ``nnstudio`` command: the desktop editor, and the same work headless.

    nnstudio [FILE]                      open the editor (on FILE)
    nnstudio templates                   list the ready-made projects
    nnstudio new TEMPLATE -o FILE        start a project from a template
    nnstudio summary FILE                layers, shapes and parameter counts
    nnstudio export FILE -o OUT.py       write the PyTorch source (and weights)
    nnstudio export FILE -o OUT --format torchscript|onnx|script|bundle
    nnstudio import SOURCE.py:CLASS --input-shape 1,3,32,32 -o FILE.nnstudio
    nnstudio train FILE [--out DIR]      train headless: metrics, checkpoints, weights

Each subcommand is two small functions registered with :func:`command`: one adds its
arguments to its parser, one does the work and returns the exit status.  Adding a
subcommand (train, import, card) touches nothing else here.

A problem with what a person gave us (a missing file, bad JSON, an unknown layer, a
shape that does not fit) ends as one line on stderr, ``nnstudio: error: ...``, and a
non-zero status; a traceback means a bug in nnstudio.  torch and Qt are imported only
by the commands that need them, so the quick commands start quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nnstudio import __version__
from nnstudio.graph import CodegenError, GraphError, fmt_shape, infer_shapes
from nnstudio.graph.blocks import top_level_graphs
from nnstudio.graph.document import Graph
from nnstudio.graph.project_file import ProjectFileError, load_project, save_project
from nnstudio.graph.templates import TemplateError, list_templates, load_template
from nnstudio.graph.weights import WeightsError

PROG = "nnstudio"


class CliError(Exception):
    """A problem to report as one line, ``nnstudio: error: <message>``."""


# Errors whose message already says, in a person's words, what is wrong with the input.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    CliError, ProjectFileError, GraphError, TemplateError, WeightsError,
)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Register the decorated ``run(args) -> exit status`` as subcommand ``name``."""
    def register(run: Callable[[argparse.Namespace], int]):
        if name in COMMANDS:
            raise ValueError(f"subcommand {name!r} is already registered")
        COMMANDS[name] = Command(name, help, configure, run)
        return run
    return register


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, the same prefix as every other error
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Draw a neural network, watch it train, export clean PyTorch. "
                    "With no command (or just a FILE), opens the desktop editor.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(p)
        p.set_defaults(run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # `nnstudio` and `nnstudio FILE` open the editor: they are the `gui` command
    if not argv or (len(argv) == 1 and argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error already printed
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    try:
        return args.run(args)
    except EXPECTED_ERRORS as e:
        return _fail(str(e))
    except CodegenError as e:
        return _fail("; ".join(e.problems))
    except OSError as e:  # a folder that does not exist, a file we may not write
        where = f"{e.filename}: " if e.filename else ""
        return _fail(f"{where}{e.strerror or e}")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _fail(message: str) -> int:
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)
    return 1


def _output_file(path: Path) -> Path:
    """``path`` if its folder exists (say so plainly rather than name a temporary file)."""
    folder = path.parent
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder (for {path.name})")
    if path.is_dir():
        raise CliError(f"{path}: is a folder; give a file name")
    return path


def _project_file(parser: argparse.ArgumentParser, help: str = "a .nnstudio project file"):
    parser.add_argument("file", type=Path, metavar="FILE", help=help)


# ----------------------------------------------------------------------------- gui
def _gui_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, nargs="?", metavar="FILE", help="a project to open")


@command("gui", "open the desktop editor (what `nnstudio [FILE]` does)", _gui_args)
def cmd_gui(args: argparse.Namespace) -> int:
    path: Path | None = args.file
    if path is not None and not path.is_file():
        if not path.suffix and len(path.parts) == 1:  # more likely a mistyped command
            raise CliError(f"{path}: no such file, nor a command "
                           f"(commands: {', '.join(COMMANDS)})")
        raise CliError(f"{path}: no such file")
    try:
        from nnstudio.ui.app import run
    except ImportError as e:
        raise CliError(f"the desktop editor cannot start ({e}); the headless commands "
                       f"still work: see '{PROG} --help'") from None
    status = run(path=None if path is None else str(path))
    return status if isinstance(status, int) else 0


# ----------------------------------------------------------------------- templates
@command("templates", "list the ready-made projects: name<TAB>title", lambda p: None)
def cmd_templates(args: argparse.Namespace) -> int:
    for t in list_templates():
        print(f"{t.name}\t{t.title}")
    return 0


def _new_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("template", metavar="TEMPLATE", help=f"a name from '{PROG} templates'")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                   help="the project file to create")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")


@command("new", "start a project from a template", _new_args)
def cmd_new(args: argparse.Namespace) -> int:
    project = load_template(args.template)
    out = _output_file(args.output)
    if out.exists() and not args.force:
        raise CliError(f"{out} already exists (use --force to replace it)")
    save_project(project, out)
    print(f"created {out} from template '{args.template}'")
    return 0


# ------------------------------------------------------------------------- summary
@command("summary", "list each graph's layers, output shapes and parameter counts",
         _project_file)
def cmd_summary(args: argparse.Namespace) -> int:
    project = load_project(args.file)
    total, n_errors = 0, 0
    # a block graph's parameters are already in the count of each block that runs it
    networks = {id(g) for g in top_level_graphs(project)}
    for i, graph in enumerate(project.graphs):
        if i:
            print()
        count, errors = _print_graph_summary(graph)
        total += count if id(graph) in networks else 0
        n_errors += errors
    if n_errors:
        print("total parameters: unknown (fix the shape errors first)")
        word = "error" if n_errors == 1 else "errors"
        return _fail(f"{args.file}: {n_errors} shape {word} (listed with their nodes above)")
    print(f"total parameters: {total}")
    return 0


def _print_graph_summary(graph: Graph) -> tuple[int, int]:
    """Print one graph's table; returns (its parameter count, its number of errors)."""
    result = infer_shapes(graph)
    rows = [("name", "type", "output shape", "parameters")]
    notes: dict[int, list[str]] = {}
    for nid in graph.topological_order():
        node = graph.node(nid)
        ports = node.spec.output_ports(node.params)
        if ports:
            shape = ", ".join(fmt_shape(result.output_shape(nid, p.name)) for p in ports)
        else:  # an Output node: show what reaches it
            shape = ", ".join(fmt_shape(s) for s in result.input_shapes(graph, nid))
        count = str(result.param_counts[nid]) if nid in result.param_counts else "?"
        if node.frozen:
            count += " (frozen)"
        rows.append((node.name, node.type, shape, count))
        if nid in result.errors:
            notes[len(rows) - 1] = [e.message for e in result.errors[nid]]
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    print(f"graph {graph.name}")
    for i, (name, type_, shape, count) in enumerate(rows):
        print(f"  {name:<{widths[0]}}  {type_:<{widths[1]}}  {shape:<{widths[2]}}  {count:>10}")
        for message in notes.get(i, ()):
            print(f"    error: {message}")
    n_errors = len(result.all_errors())
    if not n_errors:
        print(f"  parameters in {graph.name}: {result.total_params}")
    return result.total_params, n_errors


# -------------------------------------------------------------------------- export
EXPORT_FORMATS = {
    "py": "the model's PyTorch source (weights to OUT.pt beside it)",
    "torchscript": "a TorchScript model (.pt) that loads without the source",
    "onnx": "an ONNX model (the onnx extra), checked with onnx.checker and onnxruntime",
    "script": "a standalone training script: python OUT.py, or torchrun --nproc_per_node=N",
    "bundle": "a reproducibility folder: project, source, script, weights, metrics, versions",
}
_SUFFIX_FORMATS = {".py": "py", ".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript"}


def _export_args(p: argparse.ArgumentParser) -> None:
    _project_file(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                   help="the file (or, for a bundle, the folder) to write")
    p.add_argument("--format", choices=tuple(EXPORT_FORMATS), metavar="FORMAT",
                   help="; ".join(f"{k}: {v}" for k, v in EXPORT_FORMATS.items())
                   + " (default: from OUT's suffix, .py → py, .onnx → onnx, .pt → torchscript)")
    p.add_argument("--weights", type=Path, metavar="W.pt",
                   help="a state dict to check against the model and export with it")
    p.add_argument("--graph", metavar="NAME",
                   help="which graph to export (needed when the project has several)")
    p.add_argument("--torchscript", choices=("auto", "script", "trace"), default="auto",
                   help="torchscript: script the module (keeps control flow), trace it on "
                        "an example, or script and fall back to tracing (default)")
    p.add_argument("--run", dest="run_dir", type=Path, metavar="DIR",
                   help="bundle: a finished 'nnstudio train' folder to bundle (default: "
                        "train the project now)")
    p.add_argument("--force", action="store_true", help="bundle: replace a non-empty folder")


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    fmt = _SUFFIX_FORMATS.get(args.output.suffix.lower())
    if fmt is None:
        raise CliError(f"{args.output.name}: say what to write with --format "
                       f"({', '.join(EXPORT_FORMATS)})")
    return fmt


@command("export", "write a graph as PyTorch source, TorchScript, ONNX, a training script "
         "or a reproducibility bundle", _export_args)
def cmd_export(args: argparse.Namespace) -> int:
    from nnstudio.export.python_source import ExportError  # imports torch

    project = load_project(args.file)
    fmt = _export_format(args)
    out = args.output
    if fmt != "bundle":
        out = _output_file(out)
    for flag, value, only in (("--weights", args.weights, ("py", "torchscript", "onnx")),
                              ("--run", args.run_dir, ("bundle",))):
        if value is not None and fmt not in only:
            raise CliError(f"{flag} does not apply to --format {fmt}")
    try:
        _EXPORTERS[fmt](args, project, out)
    except ExportError as e:
        raise CliError(str(e)) from None
    return 0


def _export_py(args, project, out: Path) -> None:
    from nnstudio.export.python_source import export_python

    result = export_python(project, out, weights=args.weights, graph=args.graph)
    print(f"wrote {result.source_path} (class {result.class_name})")
    if result.weights_path is not None:
        print(f"wrote {result.weights_path} ({result.n_tensors} tensors)")


def _export_torchscript(args, project, out: Path) -> None:
    from nnstudio.export.torchscript import export_torchscript

    r = export_torchscript(project, out, weights=args.weights, graph=args.graph,
                           method=args.torchscript)
    how = "scripted" if r.method == "script" else "traced"
    note = f" (scripting refused: {r.fallback_reason})" if r.fallback_reason else ""
    print(f"wrote {r.path} (TorchScript, {how}{note}; reloaded outputs agree within "
          f"{r.max_difference:.1g})")


def _export_onnx(args, project, out: Path) -> None:
    from nnstudio.export.onnx_export import export_onnx

    r = export_onnx(project, out, weights=args.weights, graph=args.graph)
    check = (f"onnxruntime agrees within {r.max_difference:.1g}" if r.runtime_checked
             else "onnxruntime not installed, so not run")
    print(f"wrote {r.path} (ONNX, {r.exporter} exporter; onnx.checker passed; {check})")


def _export_script(args, project, out: Path) -> None:
    from nnstudio.export.script import export_script

    r = export_script(project, out, graph=args.graph, project_path=args.file)
    print(f"wrote {r.path} (trains {r.class_name} on '{r.dataset}', {r.recipe}, loss {r.loss})")
    if r.data_path is not None:
        print(f"wrote {r.data_path} (the data set, split as nnstudio splits it)")
    print(f"run it: python {r.path.name}   or   torchrun --nproc_per_node=2 {r.path.name}")


def _export_bundle(args, project, out: Path) -> None:
    from nnstudio.export.bundle import export_bundle

    callbacks = []
    if args.run_dir is None:
        from nnstudio.train.headless import TerminalProgress

        callbacks.append(TerminalProgress(sys.stderr))
    r = export_bundle(project, out, graph=args.graph, run_dir=args.run_dir,
                      project_path=args.file,
                      callbacks=callbacks, force=args.force)
    print(f"wrote {r.path}: {', '.join(r.files)}")
    for name, value in r.final.items():
        print(f"final {name}: {value:.6g}")


_EXPORTERS = {"py": _export_py, "torchscript": _export_torchscript, "onnx": _export_onnx,
              "script": _export_script, "bundle": _export_bundle}


# -------------------------------------------------------------------------- import
def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE.py[:CLASS]",
                   help="a Python file and the nn.Module class in it to import (the class "
                        "may be left out when the file defines one)")
    p.add_argument("--input-shape", dest="shapes", action="append", required=True,
                   metavar="B,C,H,W", help="the shape of an example input, batch first, e.g. "
                                           "1,3,32,32 (repeat for each argument of forward)")
    p.add_argument("--input-dtype", dest="dtypes", action="append", choices=("float", "long"),
                   help="float, or long for token ids (default: long for inputs that feed an "
                        "nn.Embedding); repeat for each input")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.nnstudio",
                   help="the project file to write (weights go beside it)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")


@command("import", "import a PyTorch nn.Module as a graph with its weights (this runs the "
         "code in SOURCE)", _import_args)
def cmd_import(args: argparse.Namespace) -> int:
    from nnstudio.export.import_trace import list_classes
    from nnstudio.export.importer import (  # imports torch
        ModelImportError,
        graph_class_name,
        import_pytorch,
        parse_target,
        save_imported,
    )

    source, cls = parse_target(args.source)
    if not source.is_file():
        raise CliError(f"{source}: no such file")
    if cls is None:
        classes = list_classes(source)
        if len(classes) != 1:
            raise CliError(f"{source.name} defines {len(classes)} classes "
                           f"({', '.join(classes) or 'none'}): name one, as "
                           f"{source.name}:CLASS")
        cls = classes[0]
    out = _output_file(args.output)
    if out.exists() and not args.force:
        raise CliError(f"{out} already exists (use --force to replace it)")
    shapes = [_shape(text) for text in args.shapes]
    print(f"{PROG}: importing runs the code in {source.name} (to build {cls} and trace it)",
          file=sys.stderr)
    try:
        imported = import_pytorch(source, cls, shapes, args.dtypes)
    except ModelImportError as e:
        lines = str(e).splitlines()
        raise CliError(lines[0] + "".join(f"; {line.strip()[2:]}" for line in lines[1:])) \
            from None
    saved = save_imported(imported, out)
    n_params = sum(t.numel() for k, t in imported.state_dict.items()
                   if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    print(f"imported {cls} as graph '{imported.graph.name}' (class "
          f"{graph_class_name(imported)}): {imported.n_layers} layers, {n_params:,} weights; "
          f"outputs match the original within {imported.max_difference:.1g}")
    print(f"wrote {saved.project_path}")
    print(f"wrote {saved.weights_path} ({saved.n_tensors} tensors)")
    return 0


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise CliError(f"--input-shape {text!r}: expected whole numbers separated by commas, "
                       "e.g. 1,3,32,32") from None
    if not dims:
        raise CliError(f"--input-shape {text!r}: expected e.g. 1,3,32,32")
    return dims


# --------------------------------------------------------------------------- train
def _train_args(p: argparse.ArgumentParser) -> None:
    _project_file(p)
    p.add_argument("--dataset", metavar="NAME",
                   help="train on this dataset instead of the one the project names")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="a dataset option, typed as the dataset declares it, e.g. noise=0.2 "
                        "or path=data.csv (repeat for several)")
    p.add_argument("--epochs", type=int, metavar="N",
                   help="epochs in all (with --resume: train on up to epoch N)")
    p.add_argument("--lr", type=float, metavar="X", help="learning rate")
    p.add_argument("--batch-size", type=int, metavar="N", help="examples per step")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda or mps")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="the run folder (default: <project stem>-run beside the project)")
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/last.pt (same settings and dataset)")
    p.add_argument("--graph", metavar="NAME",
                   help="which graph to train (default: the project's first)")
    p.add_argument("--no-tensorboard", dest="tensorboard", action="store_false",
                   help="do not write TensorBoard event files to DIR/tensorboard (written "
                        "when the tensorboard package is installed)")
    p.add_argument("--reweight", choices=("none", "group_label"),
                   help="classification: weight examples by group and label (Kamiran & "
                        "Calders) over the data set's sensitive columns")


@command("train", "train a graph headless: progress on stderr; metrics, checkpoint and "
         "weights in a run folder; 'final <split>_<metric>: <value>' lines on stdout",
         _train_args)
def cmd_train(args: argparse.Namespace) -> int:
    from nnstudio.data import DatasetError  # these import torch
    from nnstudio.train import CheckpointError, ConfigError
    from nnstudio.train.headless import TerminalProgress, parse_dataset_options, train_project
    from nnstudio.train.project_run import RunSetupError

    project = load_project(args.file)
    graph = project.graph(args.graph)
    out_dir: Path = args.out if args.out is not None else args.file.with_name(
        f"{args.file.stem}-run")
    overrides = {key: value for key, value in (
        ("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
        ("device", args.device), ("reweight", args.reweight)) if value is not None}
    progress = TerminalProgress(sys.stderr)
    callbacks = [progress, *_tensorboard(out_dir, args.tensorboard)]
    try:
        dataset = _dataset_override(project, args.dataset, args.options, parse_dataset_options)
        # the first Ctrl-C stops the trainer between two steps (exit 130 below)
        run = train_project(project, out_dir, graph=graph, dataset=dataset,
                            config_overrides=overrides, resume=args.resume,
                            callbacks=callbacks, ctrl_c_stops=True, project_path=args.file)
    except (RunSetupError, DatasetError, CheckpointError, ConfigError) as e:
        raise CliError(str(e)) from None
    except KeyboardInterrupt:  # a second Ctrl-C: leave the progress line before saying so
        progress.close()
        raise
    result = run.result
    if result.stopped_reason == "error":
        raise CliError(result.message)
    if result.stopped_reason == "stopped":
        done = result.epochs_completed
        kept = (f"{out_dir / 'last.pt'} holds epoch {done}; continue with --resume" if done
                else "no epoch had finished, so no checkpoint was saved")
        print(f"{PROG}: interrupted: {kept}", file=sys.stderr)
        return 130
    files = sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"{result.message} Training took {run.fit_s:.1f} s.")
    print(f"wrote {out_dir}: {', '.join(files)}")
    _print_fairness(run.fairness)
    for name, value in run.final_metrics.items():
        print(f"final {name}: {value:.6g}")
    return 0


def _tensorboard(out_dir: Path, wanted: bool) -> list:
    """A TensorBoard logger into DIR/tensorboard when wanted and tensorboard is installed."""
    from nnstudio.train.tensorboard import maybe_tensorboard

    logger = maybe_tensorboard(out_dir / "tensorboard") if wanted else None
    return [logger] if logger is not None else []


def _print_fairness(evaluations) -> None:
    """The per-group table of each sensitive column, and what per-group thresholds do."""
    from nnstudio.train.fairness import format_group_table

    for ev in evaluations:
        print()
        print("\n".join(format_group_table(ev.baseline)))
        adjusted = ev.thresholded
        if adjusted is not None:
            b, a = ev.baseline, adjusted
            print(f"  with per-group thresholds chosen on validation "
                  f"({', '.join(f'{g} {t:.2f}' for g, t in a.thresholds.items())}): "
                  f"accuracy {a.overall['accuracy']:.3f} (was {b.overall['accuracy']:.3f}), "
                  f"demographic-parity difference {a.gaps['dp_difference']:.3f} "
                  f"(was {b.gaps['dp_difference']:.3f})")
        for note in ev.notes:
            print(f"  note: {note}")
    if evaluations:
        print()


def _dataset_override(project, name: str | None, assignments: list[str], parse) -> dict | None:
    """``--dataset`` and ``--set`` as an override of the project's dataset section."""
    if name is None and not assignments:
        return None
    if name is None:
        name = (project.training.get("dataset") or {}).get("name")
        if not name:
            raise CliError("the project names no dataset to set options of; "
                           "choose one with --dataset NAME")
    return {"name": name, **parse(name, assignments)}


# ---------------------------------------------------------------------------- card
def _card_args(p: argparse.ArgumentParser) -> None:
    _project_file(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                   help="the card to write: Markdown, or HTML for a .html file name")
    p.add_argument("--run", dest="run_dir", type=Path, metavar="DIR",
                   help="the run folder of 'nnstudio train' (default: <project stem>-run "
                        "beside the project)")
    p.add_argument("--graph", metavar="NAME",
                   help="the graph the card describes (default: the one the run trained)")
    p.add_argument("--intended-use", metavar="TEXT",
                   help="what the model is for (default: the project's meta.intended_use)")


@command("card", "write a model card (Markdown or HTML): model, intended use, data, "
         "hyperparameters, overall and per-group metrics, fairness gaps, limitations",
         _card_args)
def cmd_card(args: argparse.Namespace) -> int:
    from nnstudio.export.model_card import CardError, card_from_run_folder, write_card

    project = load_project(args.file)
    graph = project.graph(args.graph) if args.graph else None
    run_dir: Path = args.run_dir if args.run_dir is not None else args.file.with_name(
        f"{args.file.stem}-run")
    out = _output_file(args.output)
    try:
        card = card_from_run_folder(project, run_dir, graph=graph,
                                    intended_use=args.intended_use)
        write_card(card, out)
    except CardError as e:
        raise CliError(str(e)) from None
    if not card.metrics:
        print(f"{PROG}: note: no finished run in {run_dir}, so the card has no metrics "
              f"(train first: {PROG} train {args.file})", file=sys.stderr)
    print(f"wrote {out} (model card of '{card.model_name}')")
    return 0
