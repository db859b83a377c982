"""The inspector plots an activation layer's function and derivative, computed by autograd
from the layer the generator builds, with the node's own parameters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from nnstudio.graph import Graph, Project
from nnstudio.ui.activation_plot import activation_curve, plottable
from nnstudio.ui.inspector import Inspector
from nnstudio.ui.session import ProjectSession


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_sigmoid_and_tanh_curves_match_their_formulas_and_derivatives():
    c = activation_curve("Sigmoid")
    assert c.x[0] == pytest.approx(-4.0) and c.x[-1] == pytest.approx(4.0)
    np.testing.assert_allclose(c.y, _sigmoid(c.x), atol=1e-6)
    np.testing.assert_allclose(c.dy, _sigmoid(c.x) * (1 - _sigmoid(c.x)), atol=1e-6)
    t = activation_curve("Tanh")
    np.testing.assert_allclose(t.dy, 1 - np.tanh(t.x) ** 2, atol=1e-5)


def test_the_nodes_parameters_shape_the_curve():
    default = activation_curve("LeakyReLU", {"negative_slope": 0.01})
    steep = activation_curve("LeakyReLU", {"negative_slope": 0.3})
    left = steep.x < -0.5
    np.testing.assert_allclose(steep.dy[left], 0.3, atol=1e-6)
    np.testing.assert_allclose(default.dy[left], 0.01, atol=1e-6)
    np.testing.assert_allclose(steep.y[left], 0.3 * steep.x[left], atol=1e-6)
    soft = activation_curve("Softplus", {"beta": 5.0})
    np.testing.assert_allclose(soft.y, np.log1p(np.exp(5.0 * soft.x)) / 5.0, atol=1e-5)
    relu = activation_curve("ReLU")
    assert relu.dy[relu.x < 0].max() == 0 and relu.dy[relu.x > 0].min() == 1


def test_every_elementwise_activation_of_the_catalog_plots_and_softmax_does_not():
    from nnstudio.graph.spec import REGISTRY

    names = [s.type for s in REGISTRY.categories()["Activation"]]
    drawn = [n for n in names if plottable(n)]
    assert {"Sigmoid", "Tanh", "ReLU", "GELU", "LeakyReLU", "ELU", "SiLU", "Softplus"} <= set(drawn)
    for name in drawn:
        c = activation_curve(name)
        assert np.isfinite(c.y).all() and np.isfinite(c.dy).all(), name
    assert not plottable("Softmax") and not plottable("Linear")
    with pytest.raises(ValueError, match="Softmax is not an element-wise activation"):
        activation_curve("Softmax")


@pytest.fixture
def act_session(qapp):
    p = Project("acts")
    g = p.add_graph(Graph("Net"))
    nodes = [g.add_node("Input", "x", {"shape": (4,)}),
             g.add_node("Linear", "fc", {"out_features": 4}),
             g.add_node("LeakyReLU", "leaky"), g.add_node("Output", "y")]
    for a, b in itertools.pairwise(nodes):
        g.connect(a.id, "out", b.id, "in")
    s = ProjectSession(p)
    yield s
    s.undo_stack.clear()
    s.deleteLater()


@pytest.fixture
def inspector(act_session, qtbot):
    w = Inspector(act_session)
    qtbot.addWidget(w)
    w.resize(320, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def _select(inspector, name):
    inspector.set_selection([inspector.session.current_graph.find(name).id])


def test_inspector_shows_the_plot_for_an_activation_and_hides_it_for_other_layers(inspector):
    _select(inspector, "fc")
    assert inspector.activation_plot is None or not inspector.activation_plot.isVisible()
    assert not inspector.function_title.isVisible()
    _select(inspector, "leaky")
    plot = inspector.activation_plot
    assert plot is not None and plot.isVisible() and inspector.function_title.isVisible()
    x, dy = plot.df_curve.getData()
    assert len(x) == 321 and dy[x < 0].max() == pytest.approx(0.01)
    assert "LeakyReLU" in plot.note.text()
    _select(inspector, "fc")
    assert not plot.isVisible() and not inspector.function_title.isVisible()


def test_editing_the_slope_in_the_inspector_redraws_the_curve_and_undo_restores_it(
        inspector, act_session):
    _select(inspector, "leaky")
    field = inspector.editor("negative_slope").field
    field.setFocus()
    QTest.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(field, "0.25")
    QTest.keyClick(field, Qt.Key.Key_Return)
    node = act_session.current_graph.find("leaky")
    assert node.params["negative_slope"] == pytest.approx(0.25)
    x, y = inspector.activation_plot.f_curve.getData()
    np.testing.assert_allclose(y[x < 0], 0.25 * x[x < 0], atol=1e-6)
    act_session.undo_stack.undo()
    x, y = inspector.activation_plot.f_curve.getData()
    np.testing.assert_allclose(y[x < 0], 0.01 * x[x < 0], atol=1e-6)
