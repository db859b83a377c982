"""Typed layer parameters: what a person may type, and the checks that keep it sane.

A parameter knows its kind, default, bounds or choices, and how to turn a raw value
(from a file, a clipboard or a widget) into a clean Python value — or say exactly why
it cannot.  Because every value that reaches generated code passes through
:meth:`Param.coerce`, only ints, floats, bools, tuples of ints and strings from a
fixed list of choices ever get written into a source file.  The text kinds — ``text``
(a file path), ``graph`` (the name of a graph of the project) and ``names`` (a Block's
port names) — are read by the document and never written into generated code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

ParamKind = Literal["int", "float", "bool", "choice", "ints", "text", "graph", "names"]
MAX_TEXT = 1000  # characters in a "text" value or in one of "names"


class ParamError(ValueError):
    """A parameter value is not acceptable; the message says why."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int = 1  # for "ints" and "names": how many values
    max_len: int = 8
    key: bool = False  # shown on the node's compact parameter line
    # filled in by the document (a Block's ports), shown but never typed by a person
    derived: bool = False

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as this parameter's clean type, or raise :class:`ParamError`."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"{self.name}: expected true or false, got {_show(value)}")
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ParamError(
                f"{self.name}: expected one of {', '.join(self.choices)}, got {_show(value)}"
            )
        if self.kind == "int":
            return self._bounded(self._int(value))
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"{self.name}: expected a number, got {_show(value)}")
            v = float(value)
            if not math.isfinite(v):
                raise ParamError(f"{self.name}: expected a finite number, got {v}")
            return self._bounded(v)
        if self.kind == "ints":
            if isinstance(value, str):
                value = _parse_ints(self.name, value)
            if isinstance(value, int) and not isinstance(value, bool):
                value = (value,)
            if not isinstance(value, (list, tuple)):
                raise ParamError(f"{self.name}: expected a list of integers, got {_show(value)}")
            if not self.min_len <= len(value) <= self.max_len:
                want = (
                    f"{self.min_len}" if self.min_len == self.max_len
                    else f"{self.min_len} to {self.max_len}"
                )
                raise ParamError(f"{self.name}: expected {want} integers, got {len(value)}")
            return tuple(self._bounded(self._int(v)) for v in value)
        if self.kind in ("text", "graph"):
            return self._text(value)
        if self.kind == "names":
            if not isinstance(value, (list, tuple)):
                raise ParamError(f"{self.name}: expected a list of names, got {_show(value)}")
            if not self.min_len <= len(value) <= self.max_len:
                raise ParamError(f"{self.name}: expected {self.min_len} to {self.max_len} "
                                 f"names, got {len(value)}")
            names = tuple(self._text(v) for v in value)
            if any(not n.strip() for n in names):
                raise ParamError(f"{self.name}: a name cannot be empty")
            if len(set(names)) != len(names):
                raise ParamError(f"{self.name}: names must differ, got {list(names)!r}"[:200])
            return names
        raise ParamError(f"{self.name}: unknown parameter kind {self.kind!r}")

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ParamError(f"{self.name}: expected text, got {_show(value)}")
        if len(value) > MAX_TEXT:
            raise ParamError(f"{self.name}: at most {MAX_TEXT} characters, got {len(value)}")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ParamError(f"{self.name}: one line of text, without control characters")
        return value

    def _int(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ParamError(f"{self.name}: expected an integer, got {_show(value)}")
        return value

    def _bounded(self, v):
        if self.min is not None and v < self.min:
            raise ParamError(f"{self.name}: must be at least {_num(self.min)}, got {_num(v)}")
        if self.max is not None and v > self.max:
            raise ParamError(f"{self.name}: must be at most {_num(self.max)}, got {_num(v)}")
        return v

    def to_json(self, value: Any) -> Any:
        return list(value) if self.kind in ("ints", "names") else value


def _parse_ints(name: str, text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.replace("×", ",").replace("x", ",").split(",") if p.strip()]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ParamError(f"{name}: expected integers separated by commas, got {text!r}") from None


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# Short constructors keep the layer family files readable.
def Int(name, default, min=None, max=None, doc="", key=False) -> Param:
    return Param(name, "int", default, doc, min=min, max=max, key=key)


def Float(name, default, min=None, max=None, doc="", key=False) -> Param:
    return Param(name, "float", default, doc, min=min, max=max, key=key)


def Bool(name, default, doc="", key=False) -> Param:
    return Param(name, "bool", default, doc, key=key)


def Choice(name, default, choices, doc="", key=False) -> Param:
    return Param(name, "choice", default, doc, choices=tuple(choices), key=key)


def Ints(name, default, min=None, max=None, min_len=1, max_len=8, doc="", key=False) -> Param:
    return Param(
        name, "ints", tuple(default), doc, min=min, max=max, min_len=min_len, max_len=max_len,
        key=key,
    )


def Text(name, default="", doc="", key=False) -> Param:
    return Param(name, "text", default, doc, key=key)


def GraphName(name, default="", doc="", key=False) -> Param:
    return Param(name, "graph", default, doc, key=key)


def Names(name, default=(), doc="", max_len=64, derived=False) -> Param:
    return Param(name, "names", tuple(default), doc, min_len=0, max_len=max_len,
                 derived=derived)
