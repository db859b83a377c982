"""``nnstudio card``: a model card from a project and its run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnstudio.cli.base import PROG, CliError, command, output_file, project_file_arg
from nnstudio.graph.project_file import load_project


# ---------------------------------------------------------------------------- card
def _card_args(p: argparse.ArgumentParser) -> None:
    project_file_arg(p)
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
    out = output_file(args.output)
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
