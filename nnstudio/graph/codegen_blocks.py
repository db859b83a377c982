"""Nested classes for Block nodes: one per block graph, written before its users.

Every use of a block renders the graph it runs with the shapes that reach it.  When all
uses are known, each graph gets its classes:

* uses whose code is the same share one class (``BasicBlock``), whatever their
  spatial sizes (the shape comments then show ``?`` where the uses differ);
* uses whose code differs only in numbers that come from the incoming shapes share one
  class whose constructor takes those numbers (``VGGStage(in_channels=256)``), named
  after the input dimension they come from (``in_channels``, ``in_features``);
* otherwise each distinct code gets its own class: ``ResidualBlock``, ``ResidualBlock_2``.

Classes are decided innermost first, so a class's source names the (already decided)
classes of the blocks inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import blocks
from .codegen import Rendered, class_source, render
from .names import NameTable, class_name
from .shapes import Shape, fmt_shape
from .spec import Ctx

# an integer literal on its own: not part of a name (conv1), a float (0.1, 1e-05) or a
# negative number (-1), so that a variable can take its place
_NUMBER = re.compile(r"(?<![\w.+\-])(\d+)(?![\w.])")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


@dataclass
class Use:
    """One Block node, rendered with the shapes that reach it."""

    target: blocks.Target
    rendered: Rendered
    in_shapes: tuple[Shape, ...]
    attr: str  # its submodule's name in the class that holds it
    ctor: str = ""  # the constructor call, once its class is decided


@dataclass
class NestedClass:
    name: str
    source: str
    helpers: set[str] = field(default_factory=set)


class ClassTable:
    """Collects block uses while graphs are rendered, then decides their classes."""

    def __init__(self, reserved=frozenset()):
        self.uses: list[Use] = []
        self._taken = set(reserved)
        self._decided: set = set()
        self.classes: list[NestedClass] = []

    # ----------------------------------------------------------------- rendering
    def block_constructor(self, ctx: Ctx) -> str:
        """The constructor of the Block in ``ctx`` (a placeholder until :meth:`finish`)."""
        target, result = blocks.use(ctx)
        rendered = render(target.graph, result, self, set())
        self.uses.append(Use(target, rendered, tuple(tuple(s) for s in ctx.in_shapes),
                             ctx.attr.removeprefix("self.")))
        return f"\x00{len(self.uses) - 1}\x00"

    def resolve(self, lines: list[str]) -> list[str]:
        """``lines`` with block placeholders replaced by constructor calls."""
        return [_PLACEHOLDER.sub(lambda m: self.uses[int(m.group(1))].ctor, line)
                for line in lines]

    # ----------------------------------------------------------------- deciding
    def finish(self, top: Rendered) -> list[NestedClass]:
        """Decide the classes of every block ``top`` uses (directly or not); returns
        them in the order they must be written (a class before its users)."""
        def need(uid: int) -> None:
            key = self.uses[uid].target.key
            if key in self._decided:
                return
            group = [u for u, use in enumerate(self.uses) if use.target.key == key]
            for u in group:
                for child in self.uses[u].rendered.uses:
                    need(child)
            self._decide(group)
            self._decided.add(key)

        for uid in top.uses:
            need(uid)
        return self.classes

    def _decide(self, group: list[int]) -> None:
        uses = [self.uses[u] for u in group]
        bodies = [self._body(use) for use in uses]
        distinct = list(dict.fromkeys("\n".join(b) for b in bodies))
        base = class_name(uses[0].target.graph.name, "Block")
        if len(distinct) == 1:
            self._emit(base, uses, bodies[0], ())
            return
        shared = _parameterise(["\n".join(b) for b in bodies], uses)
        if shared is not None:
            template, params, values = shared
            self._emit(base, uses, template.split("\n"), params, values)
            return
        for text in distinct:
            members = [use for use, b in zip(uses, bodies) if "\n".join(b) == text]
            self._emit(base, members, text.split("\n"), ())

    def _body(self, use: Use) -> list[str]:
        """The code of ``use``'s class without comments: args, init, forward, return."""
        r = use.rendered
        return ([", ".join(arg for _, arg in r.code.inputs)] + self.resolve(r.init) + ["\x01"]
                + [code for code, _ in r.forward] + ["\x01", ", ".join(r.returns)])

    def _emit(self, base: str, uses: list[Use], body: list[str], params: tuple[str, ...],
              values: list[tuple[int, ...]] | None = None) -> None:
        name = self._take(base)
        for i, use in enumerate(uses):
            args = ", ".join(f"{p}={v}" for p, v in zip(params, values[i])) if params else ""
            use.ctor = f"{name}({args})"
        cut = body.index("\x01")
        end = len(body) - 1 - body[::-1].index("\x01")
        args = body[0].split(", ")
        init = body[1:cut]
        fwd_code = body[cut + 1:end]
        returns = body[end + 1].split(", ")
        shapes = _merge_shapes([u.rendered.forward for u in uses])
        fwd = [f"{code}  # {text}" for code, text in zip(fwd_code, shapes)]
        users = ", ".join(dict.fromkeys(u.attr for u in uses))
        if uses[0].target.source is not None:
            doc = (f"A network reused from another project, with its trained weights; "
                   f"used as {users}.")
        else:
            doc = f"A block drawn as its own graph; used as {users}."
        source = "\n".join(class_source(name, doc, args, init, fwd, returns, params))
        helpers: set[str] = set()
        for u in uses:
            helpers.update(u.rendered.helpers)
        self.classes.append(NestedClass(name, source, helpers))

    def _take(self, base: str) -> str:
        name, i = base, 2
        while name in self._taken:
            name = f"{base}_{i}"
            i += 1
        self._taken.add(name)
        return name

    # ----------------------------------------------------------------- weights
    def external_weights(self, top: Rendered) -> list[tuple[str, str]]:
        """(submodule path, weights file) of every block that comes from another
        project file; a block inside one is covered by that file's weights."""
        from .weights import weights_path

        out: list[tuple[str, str]] = []

        def walk(rendered: Rendered, prefix: str) -> None:
            for uid in rendered.uses:
                use = self.uses[uid]
                path = prefix + use.attr
                if use.target.source is not None:
                    out.append((path, str(weights_path(use.target.source, use.target.graph))))
                else:
                    walk(use.rendered, path + ".")

        walk(top, "")
        return out


def _parameterise(texts: list[str], uses: list[Use]):
    """One class body for ``texts`` (one per use) that differ only in integer literals:
    (template, constructor parameter names, each use's values), or None."""
    split = [_NUMBER.split(t) for t in texts]
    first = split[0]
    if any(len(s) != len(first) or s[0::2] != first[0::2] for s in split):
        return None
    positions = [i for i in range(1, len(first), 2) if len({s[i] for s in split}) > 1]
    if not positions:
        return None
    names = NameTable({"self", "super", "nn", "torch", "math"})
    by_values: dict[tuple[int, ...], str] = {}
    template = list(first)
    for i in positions:
        values = tuple(int(s[i]) for s in split)
        if values not in by_values:
            by_values[values] = names.take(_param_name(values, uses), "size")
        template[i] = by_values[values]
    params = tuple(by_values.values())
    per_use = [tuple(v[k] for v in by_values) for k in range(len(uses))]
    return "".join(template), params, per_use


def _param_name(values: tuple[int, ...], uses: list[Use]) -> str:
    """Name a constructor parameter after the input dimension its values come from."""
    args = [arg for _, arg in uses[0].rendered.code.inputs]
    for i, arg in enumerate(args):
        rank = len(uses[0].in_shapes[i])
        for d in (rank - 1, 1, *range(2, rank - 1)):
            if d < 1:
                continue
            if all(len(u.in_shapes[i]) == rank and u.in_shapes[i][d] == v
                   for u, v in zip(uses, values)):
                if d == rank - 1 and rank in (2, 3):
                    word = "features"
                elif d == 1:
                    word = "channels"
                else:
                    word = f"dim{d}"
                return f"in_{word}" if len(args) == 1 else f"{arg}_{word}"
    return "size"


def _merge_shapes(forwards: list[list[tuple[str, tuple[Shape, ...]]]]) -> list[str]:
    """Per forward line, the shapes of every use merged: ``?`` where they differ."""
    out = []
    for line in zip(*forwards):
        per_use = [shapes for _code, shapes in line]
        merged = []
        for outs in zip(*per_use):
            merged.append(_merge_one(outs))
        out.append(", ".join(fmt_shape(s) for s in merged))
    return out


def _merge_one(shapes: tuple[Shape, ...]) -> Shape:
    first = shapes[0]
    if any(len(s) != len(first) for s in shapes):
        return ("?",)
    return tuple(d if all(s[i] == d for s in shapes) else "?" for i, d in enumerate(first))
