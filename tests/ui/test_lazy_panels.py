"""The Training panel is built when first needed, not while the window opens: its tab
holds an empty page until shown, and Train (F5) builds it from anywhere."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtWidgets import QWidget

from nnstudio.ui.lazy_tab import LazyTab
from nnstudio.ui.session import ProjectSession
from nnstudio.ui.training import TrainingDock

from .conftest import small_project


def _training_index(window) -> int:
    tabs = window.bottom_tabs
    return next(i for i in range(tabs.count()) if tabs.tabText(i) == "Training")


def test_window_opens_without_building_the_training_panel(make_window, qtbot):
    window = make_window()
    assert not window.training.is_built
    tabs = window.bottom_tabs
    index = _training_index(window)
    assert not isinstance(tabs.widget(index), TrainingDock)
    with qtbot.waitSignal(window.training.dock_ready, timeout=5000):
        tabs.setCurrentIndex(index)  # the person opens the tab
    assert window.training.is_built
    assert tabs.widget(index) is window.training.dock
    assert tabs.currentWidget() is window.training.dock
    assert tabs.tabText(index) == "Training"


def test_train_builds_the_panel_and_starts(make_window, qtbot):
    window = make_window(ProjectSession(small_project()))
    window.bottom_tabs.setCurrentIndex(0)  # the Code tab in front
    assert not window.training.is_built
    window.menu_actions["train"].trigger()  # F5
    dock = window.training.dock
    assert dock.current is not None, (dock.error_banner.text(), dock.status.text())
    assert window.bottom_tabs.currentWidget() is dock
    qtbot.waitUntil(lambda: not dock.is_running, timeout=120_000)
    assert dock.current is not None and dock.current.result is not None
    assert window.training.shutdown(5000)


def test_closing_a_window_whose_panel_was_never_built(make_window):
    window = make_window()
    assert window.training.shutdown(100)  # nothing to stop, nothing built
    assert not window.training.is_built


def test_lazy_tab_builds_once_and_keeps_its_place(qtbot):
    from PySide6.QtWidgets import QTabWidget

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QWidget(), "Code")
    built: list[QWidget] = []

    def factory() -> QWidget:
        w = QWidget()
        built.append(w)
        return w

    lazy = LazyTab(tabs, "Panel", factory)
    tabs.addTab(QWidget(), "After")
    assert built == [] and tabs.tabText(1) == "Panel"
    first = lazy.widget
    assert lazy.widget is first and built == [first]
    assert tabs.widget(1) is first and tabs.tabText(2) == "After"
    assert tabs.currentIndex() == 0  # asking for it does not bring it to the front


def test_the_window_opens_without_pyqtgraph_or_torch():
    # the window shows in about half the time `import torch` takes: torch is imported
    # when something first needs it (Train, Export, a data preview), not to draw
    # the editor (benchmarks/startup.py)
    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from nnstudio.graph.templates import load_template\n"
            "from nnstudio.ui.main_window import MainWindow\n"
            "from nnstudio.ui.session import ProjectSession\n"
            "w = MainWindow(ProjectSession(load_template('mlp')))\n"
            "w.show(); app.processEvents()\n"
            "print(sorted(m for m in ('pyqtgraph', 'sklearn', 'scipy', 'torch') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         timeout=120, env={**__import__("os").environ,
                                           "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_train_each_graph_from_the_train_menu(make_window, qtbot):
    from nnstudio.graph.templates import load_template

    window = make_window(ProjectSession(small_project()))
    each = window.menu_actions["train_each"]
    window.training.menu.aboutToShow.emit()
    assert not each.isEnabled()  # one network: nothing to train "each"
    project = load_template("activations")
    project.training["dataset"]["n_samples"] = 300
    project.training["config"].update({"epochs": 1, "device": "cpu"})
    window.session.set_project(project)
    window.training.menu.aboutToShow.emit()
    assert each.isEnabled()
    each.trigger()
    dock = window.training.dock
    qtbot.waitUntil(lambda: len(dock.store.runs) == 4 and not dock.is_running
                    and all(r.result is not None for r in dock.store.runs), timeout=120_000)
    assert [r.result.stopped_reason for r in dock.store.runs] == ["completed"] * 4
    assert window.training.shutdown(5000)


def test_a_wide_table_head_keeps_its_first_columns_and_the_target(qtbot):
    from nnstudio.ui.training.data_preview import MAX_COLUMNS, DataPreview

    preview = DataPreview()
    qtbot.addWidget(preview)
    header = [f"px{i}" for i in range(784)] + ["target"]
    rows = [[float(i) for i in range(784)] + [7] for _ in range(3)]
    preview._table({"header": header, "rows": rows})
    table = preview.table
    labels = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert table.columnCount() == MAX_COLUMNS + 1
    assert labels[:2] == ["px0", "px1"] and labels[-2:] == ["…", "target"]
    assert table.item(0, table.columnCount() - 1).text() == "7"
    narrow = {"header": ["a", "b", "target"], "rows": [[0.5, 1.25, 1]]}
    preview._table(narrow)
    assert table.columnCount() == 3 and table.item(0, 1).text() == "1.25"
