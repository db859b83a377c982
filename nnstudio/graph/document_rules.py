"""The document's rules for names, positions and wires, and the limits it shares with
the project-file reader (an edit the document accepts must give a file that opens
again)."""

from __future__ import annotations

import math
import re
from typing import Any


class GraphError(ValueError):
    """An edit was refused; the message says why in words a person understands."""


# Limits shared with the project file reader: an edit the document accepts must give a
# file that opens again.
MAX_NAME = 200
MAX_POS = 1e7
NODE_ID = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z")  # \Z: no trailing newline
_DTYPE_WORDS = {"long": "integer token ids", "float": "real-valued tensors"}


def _check_name(name: Any, what: str = "a node's name") -> str:
    name = str(name)
    if not name.strip():
        raise GraphError(f"{what} cannot be empty")
    if len(name) > MAX_NAME:
        raise GraphError(f"{what} can be at most {MAX_NAME} characters")
    return name


def _numbered(stem: str, i: int) -> str:
    """``stem`` followed by ``i``, the stem shortened so the name stays within MAX_NAME."""
    suffix = str(i)
    return stem[:MAX_NAME - len(suffix)] + suffix


def _check_pos(pos) -> tuple[float, float]:
    try:
        x, y = float(pos[0]), float(pos[1])
    except (TypeError, ValueError, IndexError):
        raise GraphError(f"a position is two numbers, not {pos!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) >= MAX_POS:
        raise GraphError(f"position ({x:g}, {y:g}) is off the canvas")
    return x, y


def _dtype_problem(s: Any, out_port, d: Any, in_port) -> str | None:
    """Why a wire from ``s``'s ``out_port`` cannot feed ``d``'s ``in_port``, if it cannot."""
    a, b = out_port.dtype, in_port.dtype
    if "any" not in (a, b) and a != b:
        return (f"'{d.name}' input '{in_port.name}' takes {_DTYPE_WORDS[b]}, "
                f"but '{s.name}' gives {_DTYPE_WORDS[a]}")
    return None


def _port_nodes(graph: Any) -> tuple:
    """((Input ids, names), (Output ids, names)) of ``graph``, in insertion order."""
    ins = [(n.id, n.name) for n in graph.nodes if n.type == "Input"]
    outs = [(n.id, n.name) for n in graph.nodes if n.type == "Output"]
    return (tuple(i for i, _ in ins), tuple(n for _, n in ins)), \
        (tuple(i for i, _ in outs), tuple(n for _, n in outs))
