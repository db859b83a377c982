"""The ``nnstudio`` command: the desktop editor, and the same work headless.

    nnstudio [FILE]                      open the editor (on FILE)
    nnstudio templates                   list the ready-made projects
    nnstudio new TEMPLATE -o FILE        start a project from a template
    nnstudio summary FILE                layers, shapes and parameter counts
    nnstudio export FILE -o OUT.py       write the PyTorch source (and weights)
    nnstudio export FILE -o OUT --format torchscript|onnx|script|bundle
    nnstudio import SOURCE.py:CLASS --input-shape 1,3,32,32 -o FILE.nnstudio
    nnstudio train FILE [--out DIR]      train headless: metrics, checkpoints, weights
    nnstudio card FILE -o CARD.md        a model card of a trained project

This module builds the parser and dispatches.  Each subcommand lives in a module
beside it (``project_commands``: gui, templates, new, summary; ``export_command``;
``import_command``; ``train_command``; ``card_command``) as two small functions
registered with :func:`nnstudio.cli.base.command`: one adds its arguments to its
parser, one does the work and returns the exit status.  Adding a subcommand is a new
module and one line in the import list below.

A problem with what a person gave us (a missing file, bad JSON, an unknown layer, a
shape that does not fit) ends as one line on stderr, ``nnstudio: error: ...``, and a
non-zero status; a traceback means a bug in nnstudio.  torch and Qt are imported only
by the commands that need them, so the quick commands start quickly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from nnstudio import __version__
from nnstudio.cli.base import (
    COMMANDS,
    EXPECTED_ERRORS,
    PROG,
    CliError,
    Command,
    command,
    fail,
)
from nnstudio.graph import CodegenError

# The modules that register subcommands, in the order `nnstudio --help` lists them.
SUBCOMMAND_MODULES = ("project_commands",  # gui, templates, new, summary
                      "export_command", "import_command", "train_command", "card_command")
for _module in SUBCOMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["COMMANDS", "PROG", "CliError", "Command", "build_parser", "command", "main"]


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
        return fail(str(e))
    except CodegenError as e:
        return fail("; ".join(e.problems))
    except OSError as e:  # a folder that does not exist, a file we may not write
        where = f"{e.filename}: " if e.filename else ""
        return fail(f"{where}{e.strerror or e}")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
