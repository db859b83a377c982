"""Turning text a person typed into safe Python identifiers.

Whatever a node or graph is called — quotes, newlines, keywords, emoji, a line of
Python — the generated code only ever contains the identifier made here: ASCII
letters, digits and underscores, never a keyword, never a name that would shadow an
``nn.Module`` attribute.  Display names never appear in generated code otherwise.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

# attributes of nn.Module (and names used by the generated code) a submodule must not shadow
_RESERVED = {
    "self", "nn", "torch", "math", "F", "forward", "training", "parameters", "buffers",
    "modules", "children", "cuda", "cpu", "to", "type", "half", "float", "double", "train",
    "eval", "state_dict", "load_state_dict", "apply", "zero_grad", "register_buffer",
    "register_parameter", "named_parameters", "named_modules", "named_children", "dump_patches",
    "call_super_init", "super", "print", "len", "range", "tuple", "list", "dict", "int", "str",
    "object", "None", "True", "False",
    # pycodestyle's ambiguous names (E741): l, O and I look like 1 and 0
    "l", "O", "I",
}


def _ascii_words(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")


def identifier(text: str, fallback: str = "layer") -> str:
    """A snake_case-ish identifier for ``text`` (not yet unique)."""
    ident = _ascii_words(text)[:40].strip("_") or fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) or ident in _RESERVED \
            or ident.startswith("__"):
        ident = f"{ident}_"
    return ident


def class_name(text: str, fallback: str = "Net") -> str:
    """A CamelCase class name for ``text``."""
    words = [w for w in _ascii_words(text).split("_") if w]
    name = "".join(w[:1].upper() + w[1:] for w in words)[:40] or fallback
    if name[0].isdigit():
        name = f"{fallback}{name}"
    if keyword.iskeyword(name) or name in _RESERVED or name in {"Tensor", "Module"}:
        name = f"{name}Net"
    return name


class NameTable:
    """Hands out unique identifiers: the second 'fc' becomes 'fc_2'."""

    def __init__(self, taken: set[str] | None = None):
        self._taken = set(taken or ())
        self._next: dict[str, int] = {}  # base -> first suffix not yet tried

    def take(self, text: str, fallback: str = "layer") -> str:
        base = identifier(text, fallback)
        name, i = base, self._next.get(base, 2)
        while name in self._taken:
            name = f"{base}_{i}"
            i += 1
        self._next[base] = i
        self._taken.add(name)
        return name
