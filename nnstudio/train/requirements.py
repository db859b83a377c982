"""What a recipe needs from the drawing: which graphs (by role) and what each returns.

Each recipe declares ``requires``: one or more :class:`Layout` alternatives, each a
tuple of :class:`GraphRole`.  A GAN needs two graphs, ``generator`` and
``discriminator``; a VAE takes either an ``encoder`` and a ``decoder`` graph or one
graph returning ``(reconstruction, mu, logvar)``.  :mod:`nnstudio.train.project_run`
matches a project's graphs against these before anything is trained and reports,
in a person's words, what is missing.

Nothing here imports the document: these are plain declarations and the wording of
the messages, so recipes (and their tests) stay free of the graph package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

# What a graph's Input receives: the data set's examples, random noise (a GAN's
# generator) or a latent code (a VAE's decoder).
Feed = Literal["data", "noise", "latent"]

SINGLE = "model"  # the role of the one graph of a single-graph recipe


@dataclass(frozen=True)
class GraphRole:
    """One graph a recipe trains.

    ``outputs`` are the names of the values the graph must return, in that order;
    ``optional`` outputs may follow them (an autoencoder may also return its code).
    ``doc`` says in a few words what the graph does, for messages and the UI.
    """

    role: str
    outputs: tuple[str, ...] = ("output",)
    feed: Feed = "data"
    doc: str = ""
    optional: tuple[str, ...] = ()

    def count_problem(self, recipe: str, graph_name: str, got: int, single: bool,
                      names: Sequence[str] = ()) -> str | None:
        """Why a graph returning ``got`` outputs (Output nodes named ``names``) does not
        fit this role, or None.  ``single``: the recipe trains one graph only."""
        need = self.outputs
        low, high = len(need), len(need) + len(self.optional)
        if low <= got <= high:
            return None
        what = "the graph" if single else f"the {self.role} graph"
        wants = f"{low} output{'s' if low != 1 else ''} ({', '.join(need)})"
        if low > 1:
            wants += " in that order"
        if self.optional:
            wants += f", optionally followed by ({', '.join(self.optional)})"
        head = f"the {recipe} recipe needs {what} to return {wants}; '{graph_name}' returns {got}"
        if got < low:
            present = {_normal(n) for n in names}
            missing = [n for n in need if _normal(n) not in present]
            if len(missing) != low - got:  # names do not tell: go by position
                missing = list(need[got:])
            return f"{head} — add Output nodes for {_join_and(missing)}"
        extra = got - high
        return f"{head} — remove {extra} of its Output nodes"


@dataclass(frozen=True)
class Layout:
    """One way to draw what a recipe trains: the graphs it needs, by role, in order."""

    graphs: tuple[GraphRole, ...]

    @property
    def single(self) -> bool:
        return len(self.graphs) == 1

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(g.role for g in self.graphs)

    def role(self, name: str) -> GraphRole:
        for g in self.graphs:
            if g.role == name:
                return g
        raise KeyError(name)

    def describe(self) -> str:
        """'generator (noise → a fake example) and discriminator (...)'."""
        parts = [f"'{g.role}'" + (f" ({g.doc})" if g.doc else "") for g in self.graphs]
        return _join_and(parts)


def one_graph(*outputs: str, feed: Feed = "data", optional: tuple[str, ...] = (),
              doc: str = "") -> Layout:
    """The layout of a recipe that trains one graph returning ``outputs`` in order."""
    return Layout((GraphRole(SINGLE, tuple(outputs) or ("output",), feed, doc, optional),))


def describe_layouts(layouts: Sequence[Layout]) -> str:
    """What a recipe needs, in words, for a help panel: "one graph returning
    (reconstruction, mu, logvar), or the graphs 'encoder' (...) and 'decoder' (...)"."""
    parts = []
    for layout in layouts:
        if layout.single:
            g = layout.graphs[0]
            text = f"one graph returning ({', '.join(g.outputs)})"
            if g.optional:
                text += f", optionally followed by ({', '.join(g.optional)})"
        else:
            text = f"the graphs {layout.describe()}"
        parts.append(text)
    return ", or ".join(parts)


# ------------------------------------------------------------------- outputs
def output_order(names: Sequence[str], role: GraphRole) -> tuple[int, ...] | None:
    """Indices that put a graph's outputs, whose Output nodes are called ``names`` (in
    return order), into the order ``role`` wants, when the names say so; else None.

    Codegen returns outputs in drawing (topological) order, which a person cannot
    easily change; naming the Output nodes "mu", "logvar", "reconstruction" is enough.
    A name matches a wanted output when their letters and digits are equal, or one
    begins with the other and is at least 3 long ("recon" for "reconstruction").
    """
    wanted = role.outputs + role.optional
    if len(names) < len(role.outputs):
        return None
    order = []
    for want in wanted[:len(names)]:
        hits = [i for i, n in enumerate(names) if _matches(n, want)]
        if len(hits) != 1:
            return None
        order.append(hits[0])
    if len(set(order)) != len(order) or len(order) != len(names):
        return None
    return None if order == sorted(order) else tuple(order)


def ordered_outputs(module: nn.Module, out: Any) -> tuple[Any, ...]:
    """``module``'s outputs ``out`` as a tuple, in the order its recipe wants.

    A graph compiled by :func:`~nnstudio.train.project_run.prepare_run` carries
    ``nnstudio_output_order`` when its Output nodes are named in another order than
    they are returned; a plain module returns them in the wanted order already.
    """
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    order = getattr(module, "nnstudio_output_order", None)
    if order is None:
        return outs
    return tuple(outs[i] for i in order)


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _matches(name: str, want: str) -> bool:
    a, b = _normal(name), _normal(want)
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 3 and long_.startswith(short)


def _join_and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
