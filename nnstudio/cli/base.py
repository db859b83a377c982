"""What every subcommand shares: the registry, the one-line error, and argument helpers.

Each subcommand is two small functions registered with :func:`command`: one adds its
arguments to its parser, one does the work and returns the exit status.  The modules
beside this one hold the subcommands; :mod:`nnstudio.cli` builds the parser from
:data:`COMMANDS` and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nnstudio.graph.document import GraphError
from nnstudio.graph.project_file import ProjectFileError
from nnstudio.graph.templates import TemplateError
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


def fail(message: str) -> int:
    """Print ``message`` as one ``nnstudio: error:`` line on stderr; returns status 1."""
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)
    return 1


def output_file(path: Path) -> Path:
    """``path`` if its folder exists (say so plainly rather than name a temporary file)."""
    folder = path.parent
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder (for {path.name})")
    if path.is_dir():
        raise CliError(f"{path}: is a folder; give a file name")
    return path


def project_file_arg(parser: argparse.ArgumentParser,
                     help: str = "a .nnstudio project file") -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help=help)
