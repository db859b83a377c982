"""``nnstudio import``: a PyTorch nn.Module as a graph, with its weights."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnstudio.cli.base import PROG, CliError, command, output_file


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
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--blocks", dest="blocks", action="store_true", default=True,
                        help="make each nn.Sequential and each class of your own a block: a "
                             "node that runs a graph of its own, shared by the calls that "
                             "compute the same thing (the default)")
    layout.add_argument("--flat", dest="blocks", action="store_false",
                        help="inline every submodule: one graph of layers named by their "
                             "module path (features.0 → features_0)")


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
    out = output_file(args.output)
    if out.exists() and not args.force:
        raise CliError(f"{out} already exists (use --force to replace it)")
    shapes = [_shape(text) for text in args.shapes]
    print(f"{PROG}: importing runs the code in {source.name} (to build {cls} and trace it)",
          file=sys.stderr)
    try:
        imported = import_pytorch(source, cls, shapes, args.dtypes, blocks=args.blocks)
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
    if imported.n_blocks:
        graphs = ", ".join(g.name for g in imported.block_graphs)
        print(f"{imported.n_blocks} submodules became blocks, running "
              f"{len(imported.block_graphs)} graphs: {graphs}")
    for note in imported.notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
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


