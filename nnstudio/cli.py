"""The ``nnstudio`` command: the desktop editor, and the same work headless.

    nnstudio [FILE]                      open the editor (on FILE)
    nnstudio templates                   list the ready-made projects
    nnstudio new TEMPLATE -o FILE        start a project from a template
    nnstudio summary FILE                layers, shapes and parameter counts
    nnstudio export FILE -o OUT.py       write the PyTorch source (and weights)
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
    for i, graph in enumerate(project.graphs):
        if i:
            print()
        count, errors = _print_graph_summary(graph)
        total += count
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
def _export_args(p: argparse.ArgumentParser) -> None:
    _project_file(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.py",
                   help="the Python file to write (weights go to OUT.pt beside it)")
    p.add_argument("--weights", type=Path, metavar="W.pt",
                   help="a state dict to check against the model and write as OUT.pt")
    p.add_argument("--graph", metavar="NAME",
                   help="which graph to export (needed when the project has several)")


@command("export", "write a graph as a self-contained PyTorch source file", _export_args)
def cmd_export(args: argparse.Namespace) -> int:
    from nnstudio.export.python_source import ExportError, export_python  # imports torch

    project = load_project(args.file)
    out = _output_file(args.output)
    try:
        result = export_python(project, out, weights=args.weights, graph=args.graph)
    except ExportError as e:
        raise CliError(str(e)) from None
    print(f"wrote {result.source_path} (class {result.class_name})")
    if result.weights_path is not None:
        print(f"wrote {result.weights_path} ({result.n_tensors} tensors)")
    return 0


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
        ("device", args.device)) if value is not None}
    progress = TerminalProgress(sys.stderr)
    try:
        dataset = _dataset_override(project, args.dataset, args.options, parse_dataset_options)
        # the first Ctrl-C stops the trainer between two steps (exit 130 below)
        run = train_project(project, out_dir, graph=graph, dataset=dataset,
                            config_overrides=overrides, resume=args.resume,
                            callbacks=[progress], ctrl_c_stops=True, project_path=args.file)
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
    for name, value in run.final_metrics.items():
        print(f"final {name}: {value:.6g}")
    return 0


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
