"""The model card's intended use, written in the Fairness tab: an undoable edit of the
project that marks it modified, is saved in the project file and reaches the card."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import load_template
from nnstudio.train.fairness_regression import regression_report
from nnstudio.train.fairness_run import FairnessEvaluation


@pytest.fixture
def session(qapp):
    from nnstudio.ui.session import ProjectSession

    s = ProjectSession(load_template("mlp"))
    yield s
    s.undo_stack.clear()
    s.deleteLater()


@pytest.fixture
def view(qtbot, session):
    from nnstudio.ui.fairness_view import FairnessView

    v = FairnessView(session)
    qtbot.addWidget(v)
    v.resize(1200, 520)
    v.show()
    qtbot.waitExposed(v)
    v.activateWindow()  # focus moves (one undo step per visit) need an active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is v)
    return v


def type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClicks(edit, text)


def test_typing_the_intended_use_is_one_undoable_step_per_visit(qtbot, view, session):
    edit = view.intended_use
    assert "intended_use" not in session.project.meta and not session.dirty
    type_into(qtbot, edit, "Teaching")
    assert session.project.meta["intended_use"] == "Teaching"  # the document, every key
    assert session.dirty and session.undo_stack.count() == 1
    assert session.undo_stack.undoText() == "Edit the intended use"
    view.column_box.setEnabled(True)
    view.column_box.setFocus()  # leaving the field ends the step
    qtbot.waitUntil(lambda: not edit.hasFocus())
    type_into(qtbot, edit, " only")
    assert session.project.meta["intended_use"] == "Teaching only"
    assert session.undo_stack.count() == 2
    session.undo_stack.undo()
    assert session.project.meta["intended_use"] == "Teaching"
    assert edit.toPlainText() == "Teaching"
    session.undo_stack.undo()
    assert "intended_use" not in session.project.meta and edit.toPlainText() == ""
    assert not session.dirty
    session.undo_stack.redo()
    session.undo_stack.redo()
    assert session.project.meta["intended_use"] == "Teaching only"
    assert edit.toPlainText() == "Teaching only"


def test_the_intended_use_is_saved_in_the_project_file_and_shown_on_opening(
        qtbot, view, session, tmp_path):
    type_into(qtbot, view.intended_use, "Not for real loans")
    path = tmp_path / "p.nnstudio"
    save_project(session.project, path)
    session.mark_saved(str(path))
    assert not session.dirty
    loaded = load_project(path)
    assert loaded.meta["intended_use"] == "Not for real loans"
    other = load_template("mlp")
    session.set_project(other)
    assert view.intended_use.toPlainText() == ""
    session.set_project(loaded, str(path))
    assert view.intended_use.toPlainText() == "Not for real loans"


def test_the_card_states_the_projects_intended_use(qtbot, view, session, tmp_path):
    report = regression_report([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.5, 4.5], [0, 0, 1, 1],
                               column="sex", group_names=("sex=1", "sex=2"))
    view.show_evaluations([FairnessEvaluation("sex", [report])], "Run 1")
    type_into(qtbot, view.intended_use, "Only <for> class")
    page = view.export_card(tmp_path / "card.md").read_text()
    assert "## Intended use\n\nOnly &lt;for&gt; class" in page


def test_the_field_is_read_only_while_edits_are_locked(qtbot, view, session):
    session.set_locked("training is running")
    assert view.intended_use.isReadOnly()
    qtbot.keyClicks(view.intended_use, "x")
    assert "intended_use" not in session.project.meta and session.undo_stack.count() == 0
    session.set_locked("")
    assert not view.intended_use.isReadOnly()


def test_a_regression_run_is_drawn_as_errors_by_group(view):
    import pyqtgraph as pg

    report = regression_report([100.0, 150.0, 200.0, 120.0, 260.0],
                               [110.0, 140.0, 170.0, 150.0, 240.0], [0, 0, 0, 1, 1],
                               column="sex", group_names=("sex=1", "sex=2"))
    view.show_evaluations([FairnessEvaluation("sex", [report])], "Diabetes run")
    bars = [i for i in view.bars_plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == 2
    b = report.groups[1]
    assert list(bars[1].opts["height"]) == pytest.approx([b.mae, b.rmse, b.bias])
    dots = view.calib_plot.getPlotItem().listDataItems()
    assert len(dots) == 3  # the diagonal and one cloud per group
    assert set(view.gap_labels) >= {"mae_difference", "mae_ratio", "bias_difference"}
    value = view.gap_labels["mae_difference"][1].text()
    assert f"{report.gaps['mae_difference']:.4g}" in value
    assert "regression" in view.summary.text() and view.table.rowCount() == 0
    assert view.card_button.isEnabled()
    assert view.intended_use.isEnabled()
    assert Qt.AlignmentFlag.AlignRight & view.gap_labels["mae_ratio"][1].alignment()
