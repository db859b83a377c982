"""The quick subcommands about projects: gui, templates, new, summary."""

from __future__ import annotations

import argparse
from pathlib import Path

from nnstudio.cli.base import (
    COMMANDS,
    PROG,
    CliError,
    command,
    fail,
    output_file,
    project_file_arg,
)
from nnstudio.graph import fmt_shape, infer_shapes
from nnstudio.graph.blocks import top_level_graphs
from nnstudio.graph.document import Graph
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import list_templates, load_template


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
    out = output_file(args.output)
    if out.exists() and not args.force:
        raise CliError(f"{out} already exists (use --force to replace it)")
    save_project(project, out)
    print(f"created {out} from template '{args.template}'")
    return 0


# ------------------------------------------------------------------------- summary
@command("summary", "list each graph's layers, output shapes and parameter counts",
         project_file_arg)
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
        return fail(f"{args.file}: {n_errors} shape {word} (listed with their nodes above)")
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


