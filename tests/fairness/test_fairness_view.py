"""The Fairness tab, offscreen: built from a finished run, definitions one hover away,
runs side by side, the card exported, and mounted in the main window."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import pyqtgraph as pg
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from nnstudio.graph.templates import load_template
from nnstudio.train import Trainer
from nnstudio.train.fairness import DEFINITIONS
from nnstudio.train.project_run import prepare_run


@pytest.fixture(autouse=True)
def _isolated(qapp, tmp_path_factory, monkeypatch):
    monkeypatch.delenv("NNSTUDIO_ASSETS", raising=False)
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    qapp.setOrganizationName("nnstudio-tests")
    qapp.setApplicationName("nnstudio-tests")
    yield
    qapp.setStyleSheet("")


def _finished(reweight: str = "none"):
    project = load_template("fairness")
    prepared = prepare_run(project, dataset={**project.training["dataset"],
                                                    "n_samples": 1500},
                                  config_overrides={"epochs": 4, "device": "cpu",
                                                    "reweight": reweight})
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    return project, prepared, result


@pytest.fixture(scope="module")
def two_runs():
    return _finished("none"), _finished("group_label")


@pytest.fixture
def view(qtbot, two_runs):
    from nnstudio.ui.fairness_view import FairnessView
    from nnstudio.ui.session import ProjectSession

    (project, prepared, result), (_, prepared2, result2) = two_runs
    session = ProjectSession(project)
    v = FairnessView(session)
    qtbot.addWidget(v)
    v.resize(1200, 520)
    v.show(); qtbot.waitExposed(v)
    v.show_result(prepared, result, "Run 1")
    v.show_result(prepared2, result2, "Run 2")
    return v


def test_a_finished_run_fills_bars_calibration_confusions_and_gaps(view):
    report = view.report()
    assert view.current.name == "Run 2" and report.column == "group"
    bars = [i for i in view.bars_plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == 2  # one series per group: accuracy, TPR, FPR, selection rate
    heights = bars[1].opts["height"]
    b = report.groups[1]
    assert list(heights) == pytest.approx([b.accuracy, b.tpr, b.fpr, b.selection_rate])
    curves = view.calib_plot.getPlotItem().listDataItems()
    assert len(curves) == 3  # the diagonal and one curve per group
    cells = [t.toPlainText() for t in view._texts]
    assert cells == [str(v) for g in report.groups for row in g.confusion for v in row]
    value = view.gap_labels["dp_difference"][1].text()
    assert f"{report.gaps['dp_difference']:.3f}" in value
    assert "Run 2" in view.summary.text() and "approved" in view.summary.text()


def test_definitions_are_one_hover_away(view):
    for gap in ("dp_difference", "dp_ratio", "eo_difference", "eo_ratio"):
        name, value = view.gap_labels[gap]
        assert DEFINITIONS[gap] in name.toolTip() and DEFINITIONS[gap] in value.toolTip()
    for key in ("accuracy", "tpr", "fpr", "selection_rate"):
        assert DEFINITIONS[key] in view.bars_plot.toolTip()
    assert view.calib_plot.toolTip() == DEFINITIONS["calibration"]
    assert view.confusion.toolTip() == DEFINITIONS["confusion"]
    headers = {view.table.horizontalHeaderItem(c).text(): view.table.horizontalHeaderItem(c)
               for c in range(view.table.columnCount())}
    assert headers["DP difference"].toolTip() == DEFINITIONS["dp_difference"]
    assert headers["EO difference"].toolTip() == DEFINITIONS["eo_difference"]
    assert DEFINITIONS["reweight"] in view.table.toolTip()


def test_runs_and_mitigations_sit_side_by_side(view):
    table = view.table
    rows = [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]
    assert [r[:2] for r in rows] == [
        ["Run 1", "unmitigated"], ["Run 1", "unmitigated + per-group thresholds"],
        ["Run 2", "re-weighted"], ["Run 2", "re-weighted + per-group thresholds"]]
    first = view.runs[0].evaluations[0]
    assert rows[1][3] == f"{first.thresholded.gaps['dp_difference']:.3f}"
    table.setCurrentCell(1, 0)  # clicking a row shows that run with those decisions
    assert view.current is view.runs[0] and view.report() is first.thresholded
    view.mode_box.setCurrentIndex(0)
    assert view.report() is first.baseline


def test_the_card_exports_from_the_view(view, tmp_path):
    path = view.export_card(tmp_path / "card.html", intended_use="<b>teaching</b>")
    page = path.read_text()
    assert "<h2>Per-group metrics</h2>" in page and "&lt;b&gt;teaching&lt;/b&gt;" in page
    assert "re-weighted + per-group thresholds" in page  # every run compared


def test_a_run_without_a_sensitive_column_says_so(qtbot):
    from nnstudio.ui.fairness_view import FairnessView

    project = load_template("mlp")
    prepared = prepare_run(project, config_overrides={"epochs": 1, "device": "cpu"})
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    v = FairnessView()
    qtbot.addWidget(v)
    assert v.show_result(prepared, result).evaluations == []
    assert "no sensitive column" in v.summary.text() and not v.card_button.isEnabled()


def test_installed_in_the_main_window_and_fed_by_the_training_dock(qtbot, two_runs):
    from nnstudio.ui.fairness_view import FairnessView
    from nnstudio.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    try:
        tabs = [window.bottom_tabs.tabText(i) for i in range(window.bottom_tabs.count())]
        assert "Fairness" in tabs
        view = window.fairness_view
        assert isinstance(view, FairnessView)
        # the contract with the training dock: when a run ends, `dock.prepared` is the
        # PreparedRun that trained (set here by hand, as the dock's start would)
        dock = window.training.dock
        _, prepared, result = two_runs[0]
        dock.prepared = prepared
        dock.run_finished.emit(result)
        assert view.current is not None and len(view.current.evaluations) == 1
        assert view.table.rowCount() == 2
    finally:
        window.session.undo_stack.setClean()
        window.close()
        QApplication.processEvents()


def test_runs_finished_before_the_tab_was_opened_are_shown_when_it_is(qtbot, two_runs):
    from nnstudio.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    try:
        dock = window.training.dock
        for _, prepared, result in two_runs:
            dock.prepared = prepared
            dock.run_finished.emit(result)
        assert not window.fairness.tab.is_built  # nobody looked yet
        view = window.fairness_view  # the person opens the tab
        assert len(view.runs) == 2
        assert view.current is not None and len(view.current.evaluations) == 1
    finally:
        window.session.undo_stack.setClean()
        window.close()
        QApplication.processEvents()
