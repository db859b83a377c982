"""Sizes and positions of what the canvas draws, computed from the document alone.

Everything here is a pure function of a layer spec and its parameters, so the canvas can
place a node before it exists (a drop centres the new node on the cursor) and a wire can
find its ports without asking the items for state.  A node's ``pos`` in the document is
its top-left corner in scene coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...graph.spec import LayerSpec

GRID = 20.0  # the snapping grid and the minor lines of the background
MAJOR_EVERY = 5  # a major grid line every 5 minor cells

WIDTH = 180.0
HEADER = 26.0
ROW = 17.0  # one line of text in the body
PAD = 7.0
RADIUS = 6.0  # corner radius
PORT_R = 5.0  # drawn radius of a port
PORT_HIT = 11.0  # how close the pointer must be to grab or drop on a port
BADGE_R = 8.0

# Below these zoom levels (levels of detail) the canvas leaves out small text.
LOD_TEXT = 0.4  # port names, parameter line, shape/parameter footer, wire labels
LOD_TITLE = 0.3  # header text

# Spacing of auto-layout: enough room between columns for a wire's shape label.
LAYOUT_COLUMN = WIDTH + 120.0


@dataclass(frozen=True)
class PortGeom:
    name: str
    dtype: str
    y: float  # centre, in node coordinates
    doc: str = ""


@dataclass(frozen=True)
class NodeGeom:
    width: float
    height: float
    inputs: tuple[PortGeom, ...]
    outputs: tuple[PortGeom, ...]
    text_top: float  # top of the first text line of the body
    show_port_names: bool
    param_line: str

    def port(self, side: str, name: str) -> PortGeom | None:
        for p in self.inputs if side == "in" else self.outputs:
            if p.name == name:
                return p
        return None


def node_geometry(spec: LayerSpec, params: Mapping[str, Any]) -> NodeGeom:
    """Where the ports and text lines of a ``spec`` node with ``params`` go."""
    ins = spec.input_ports(params)
    outs = spec.output_ports(params)
    line = param_line(spec, params)
    text_rows = 1 + bool(line)  # the parameter line, then shape · parameter count
    many = max(len(ins), len(outs)) > 1
    body_top = HEADER + PAD
    if many:
        port_rows = max(len(ins), len(outs))

        def place(ports):
            return tuple(PortGeom(p.name, p.dtype, body_top + ROW * (i + 0.5), p.doc)
                         for i, p in enumerate(ports))

        in_g, out_g = place(ins), place(outs)
        text_top = body_top + port_rows * ROW + 2.0
        height = text_top + text_rows * ROW + PAD
    else:
        text_top = body_top
        height = body_top + text_rows * ROW + PAD
        mid = (HEADER + height) / 2
        in_g = tuple(PortGeom(p.name, p.dtype, mid, p.doc) for p in ins)
        out_g = tuple(PortGeom(p.name, p.dtype, mid, p.doc) for p in outs)
    return NodeGeom(WIDTH, height, in_g, out_g, text_top, many, line)


# How each parameter reads on the compact line under the header.
_SHORT = {
    "out_channels": "{} ch",
    "kernel_size": "k{}",
    "stride": "s{}",
    "padding": "p{}",
    "dilation": "d{}",
    "out_features": "{} units",
    "p": "p={}",
    "negative_slope": "slope {}",
    "num_heads": "{} heads",
    "nhead": "{} heads",
    "num_embeddings": "vocab {}",
    "embedding_dim": "dim {}",
    "hidden_size": "{} hidden",
    "dim": "dim {}",
    "scale_factor": "×{}",
    "output_size": "out {}",
    "dtype": "{}",
    "graph": "runs {}",
    "source": "from {}",
}
# Not marked ``key`` but worth a glance when they differ from the default.
_WHEN_CHANGED = ("stride", "padding", "dilation", "dtype", "source")


def _value(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return "×".join(str(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def param_line(spec: LayerSpec, params: Mapping[str, Any]) -> str:
    """``"6 ch · k5 · p2"``: the key parameters, then a few others that were changed."""
    parts = []
    for p in spec.params:
        if p.name not in params:
            continue
        v = params[p.name]
        if p.key or (p.name in _WHEN_CHANGED and v != p.default):
            parts.append(_SHORT.get(p.name, p.name + " {}").format(_value(v)))
    return " · ".join(parts)


def short_count(n: int) -> str:
    """A parameter count for the node footer: ``156``, ``61.7k``, ``1.2M``."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def snap(v: float, step: float = GRID) -> float:
    return round(v / step) * step


def cubic_controls(x1: float, y1: float, x2: float, y2: float
                   ) -> tuple[float, float, float, float]:
    """Control points of a wire from an output (x1, y1) to an input (x2, y2): horizontal
    tangents at both ends, a wider loop when the wire runs backwards."""
    dx = x2 - x1
    d = max(abs(dx) * 0.5, 40.0) if dx >= 0 else max(80.0, min(abs(dx) * 0.5, 200.0)
                                                     + abs(y2 - y1) * 0.1)
    return x1 + d, y1, x2 - d, y2
