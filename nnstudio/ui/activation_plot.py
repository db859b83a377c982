"""The inspector's picture of an activation layer: the function and its derivative.

The curve comes from the layer itself, not from a formula written a second time: a
one-layer graph (Input → the node, with its parameters → Output) is compiled by the code
generator like any model, and torch autograd differentiates it on [-4, 4].  So a
LeakyReLU's slope, an ELU's alpha or a Softplus's beta shape the plot exactly as they
shape the trained layer, and a layer type added to the catalog's "Activation" family is
plotted with no code here.  Layers that are not element-wise (Softmax mixes a row) get
no plot.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..graph.document import Graph, Node
from ..graph.spec import REGISTRY
from .theme import THEMES

X_RANGE = (-4.0, 4.0)
POINTS = 321  # x step 0.025: smooth curves, the kinks of ReLU land on a sample
CATEGORY = "Activation"
# in the Activation family but not element-wise: f(x) of one number is not defined
NOT_ELEMENTWISE = frozenset({"Softmax", "LogSoftmax"})


@dataclass(frozen=True)
class Curve:
    """``y = f(x)`` and ``dy = f'(x)`` sampled at ``x`` (numpy arrays of equal length)."""

    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray


def plottable(node_type: str) -> bool:
    """Whether a layer of ``node_type`` is an element-wise activation we can draw."""
    if node_type in NOT_ELEMENTWISE or node_type not in REGISTRY:
        return False
    return REGISTRY.get(node_type).category == CATEGORY


def activation_curve(node_type: str, params: Mapping[str, Any] | None = None,
                     x_range: tuple[float, float] = X_RANGE, points: int = POINTS) -> Curve:
    """f and f' of a ``node_type`` layer with ``params`` over ``x_range``.

    Raises ValueError when ``node_type`` is not an element-wise activation, or when its
    parameters do not make a layer (the message says which).
    """
    if not plottable(node_type):
        raise ValueError(f"{node_type} is not an element-wise activation: nothing to plot")
    key = tuple(sorted((k, _hashable(v)) for k, v in (params or {}).items()))
    return _curve(node_type, key, float(x_range[0]), float(x_range[1]), int(points))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@lru_cache(maxsize=64)
def _curve(node_type: str, params: tuple, lo: float, hi: float, points: int) -> Curve:
    import torch

    from ..graph.compiler import compile_graph
    from ..graph.document import GraphError

    values = dict(params)
    # PReLU with one slope per channel needs that many channels; plot the first
    width = int(values.get("num_parameters", 1) or 1)
    graph = Graph("ActivationPlot")
    try:
        nodes = [graph.add_node("Input", "x", {"shape": (width,)}),
                 graph.add_node(node_type, "act", values), graph.add_node("Output", "y")]
        for a, b in itertools.pairwise(nodes):
            graph.connect(a.id, "out", b.id, "in")
        module = compile_graph(graph).eval()
    except (GraphError, ValueError) as e:
        raise ValueError(f"cannot build {node_type} with these parameters: {e}") from None
    x = torch.linspace(lo, hi, points, dtype=torch.float32)
    xs = x.unsqueeze(1).repeat(1, width).requires_grad_(True)
    y = module(xs)
    if tuple(y.shape) != tuple(xs.shape):
        raise ValueError(f"{node_type} changes the shape of its input: not element-wise")
    (grad,) = torch.autograd.grad(y[:, 0].sum(), xs)
    return Curve(x.numpy().copy(), y[:, 0].detach().numpy().copy(),
                 grad[:, 0].detach().numpy().copy())


class ActivationPlot(QWidget):
    """A small plot of the selected activation: f(x) solid, f'(x) dashed, x in [-4, 4]."""

    HEIGHT = 190

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # pyqtgraph (and the plot style) load with the first activation shown
        import pyqtgraph as pg

        from .training.plot_style import RUN_HEX, TICK_PT, make_plot, style_plot

        self.setObjectName("ActivationPlot")
        self.plot = make_plot(self, "", "x", "")
        self.plot.setObjectName("ActivationPlotWidget")
        self.plot.setMinimumHeight(self.HEIGHT)
        self.plot.setMaximumHeight(self.HEIGHT)
        item = self.plot.getPlotItem()
        item.setTitle(None)  # no empty title row above the plot
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        # top left: where activations are lowest, so the legend hides no curve
        item.addLegend(offset=(4, 4), labelTextSize=f"{TICK_PT}pt", verSpacing=-4)
        style_plot(self.plot)
        THEMES.changed.connect(self._on_theme)
        self.f_curve = self.plot.plot([], [], name="f(x)", pen=pg.mkPen(RUN_HEX[0], width=2.2))
        self.df_curve = self.plot.plot([], [], name="f'(x)",
                                       pen=pg.mkPen(RUN_HEX[1], width=1.8,
                                                    style=Qt.PenStyle.DashLine))
        self.note = QLabel()
        self.note.setObjectName("ActivationPlotNote")
        self.note.setProperty("role", "muted")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot)
        layout.addWidget(self.note)
        self.curve: Curve | None = None
        self._shown: tuple | None = None

    def show_node(self, node: Node) -> bool:
        """Draw ``node``'s function; False (and nothing drawn) if it has none to draw."""
        if not plottable(node.type):
            self.curve = None
            self._shown = None
            return False
        key = (node.type, tuple(sorted((k, _hashable(v)) for k, v in node.params.items())))
        if key == self._shown:
            return self.curve is not None
        self._shown = key
        try:
            curve = activation_curve(node.type, node.params)
        except ValueError as e:
            self.curve = None
            self.f_curve.setData([], [])
            self.df_curve.setData([], [])
            self.note.setText(str(e))
            return True
        self.curve = curve
        self.f_curve.setData(curve.x, curve.y)
        self.df_curve.setData(curve.x, curve.dy)
        lo = float(min(curve.y.min(), curve.dy.min(), -0.1))
        hi = float(max(curve.y.max(), curve.dy.max(), 1.1))
        pad = 0.06 * (hi - lo)
        item = self.plot.getPlotItem()
        item.setXRange(*X_RANGE, padding=0.02)
        item.setYRange(lo - pad, hi + pad, padding=0)
        self.note.setText(self._describe(node.type, curve))
        return True

    def _on_theme(self, t) -> None:
        from .training.plot_style import style_plot

        style_plot(self.plot, t)

    @staticmethod
    def _describe(node_type: str, curve: Curve) -> str:
        """One line a learner can read off the plot: the output range and the largest
        slope, where gradients survive and where they vanish."""
        lo, hi = X_RANGE
        peak = float(curve.dy.max())
        ends = float(curve.dy[0]), float(curve.dy[-1])
        text = (f"{node_type} on [{lo:g}, {hi:g}]: output {curve.y.min():.2f} … "
                f"{curve.y.max():.2f}, slope at most {peak:.2f}")
        if max(abs(e) for e in ends) < 0.05:
            text += f"; the slope is ≈0 at x = ±{hi:g} (saturation: gradients vanish)"
        elif abs(ends[0]) < 0.05:
            text += "; the slope is ≈0 for large negative inputs"
        return text + "."
