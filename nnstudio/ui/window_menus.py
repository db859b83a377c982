"""The main window's menus and their shortcuts.

Every action forwards to the object that does the work — the file controller, the
canvas in front, the undo stack, the theme — so this module is a table of wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu

from .appearance import apply_theme
from .theme import THEMES

if TYPE_CHECKING:
    from .main_window import MainWindow

Key = QKeySequence.StandardKey
CANVAS_KEYS = ("cut", "copy", "paste", "duplicate", "delete", "select_all",
               "collapse_block", "expand_block")


def build_menus(w: MainWindow) -> dict[str, QAction]:
    """Create the menu bar of ``w``; returns its actions by short name."""
    actions: dict[str, QAction] = {}

    def act(name: str, text: str, slot: Callable, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, w)
        a.setObjectName(f"action_{name}")
        if shortcut is not None:
            a.setShortcuts(QKeySequence.keyBindings(shortcut) if isinstance(shortcut, Key)
                           else [QKeySequence(shortcut)])
        if tip:
            a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False: slot())
        actions[name] = a
        return a

    def on_canvas(method: str) -> Callable[[], None]:
        def run() -> None:
            canvas = w.canvas
            if canvas is not None:
                getattr(canvas, method)()
        return run

    def zoom_by(factor: float) -> Callable[[], None]:
        def run() -> None:
            canvas = w.canvas
            if canvas is not None:
                canvas.set_zoom(canvas.zoom() * factor if factor else 1.0)
        return run

    files = w.files
    bar = w.menuBar()

    m = bar.addMenu("&File")
    m.addAction(act("new", "&New from Example…", w.show_start_page, Key.New,
                    "Start a new project from one of the examples"))
    m.addAction(act("new_blank", "New &Blank Project", files.new_blank, "Ctrl+Shift+N"))
    m.addAction(act("open", "&Open…", files.open_dialog, Key.Open))
    w.recent_menu = m.addMenu("Open &Recent")
    w.recent_menu.setObjectName("RecentMenu")
    m.addSeparator()
    m.addAction(act("save", "&Save", files.save, Key.Save))
    m.addAction(act("save_as", "Save &As…", files.save_as, Key.SaveAs))
    m.addAction(act("export_python", "&Export Python…", w.code_view.export, "Ctrl+E",
                    "Write the generated PyTorch code to a .py file"))
    # interop (nnstudio.ui.import_dialog / export_dialog); imported when first used
    m.addAction(act("export_as", "Export &As…", lambda: _interop(w, "export"), "Ctrl+Shift+E",
                    "TorchScript, ONNX, a training script or a reproducibility bundle"))
    m.addAction(act("import_pytorch", "&Import from PyTorch…", lambda: _interop(w, "import"),
                    "Ctrl+Shift+I", "Build a graph from an nn.Module in a Python file "
                    "(runs that file's code)"))
    m.addAction(act("load_weights", "Load &Weights…", lambda: _interop(w, "weights"),
                    tip="Load a state-dict file into the graph in front wherever names and "
                        "shapes fit, and list what does not"))
    m.addSeparator()
    m.addAction(act("quit", "&Quit", w.close, Key.Quit))

    m = bar.addMenu("&Edit")
    undo = w.session.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcuts(QKeySequence.keyBindings(Key.Undo))
    undo.setObjectName("action_undo")
    redo = w.session.undo_stack.createRedoAction(w, "&Redo")
    redo.setShortcuts(QKeySequence.keyBindings(Key.Redo))
    redo.setObjectName("action_redo")
    actions["undo"], actions["redo"] = undo, redo
    m.addAction(undo)
    m.addAction(redo)
    m.addSeparator()
    m.addAction(act("cut", "Cu&t", on_canvas("cut_selection"), Key.Cut))
    m.addAction(act("copy", "&Copy", on_canvas("copy_selection"), Key.Copy))
    m.addAction(act("paste", "&Paste", on_canvas("paste"), Key.Paste))
    m.addAction(act("duplicate", "D&uplicate", on_canvas("duplicate_selection"), "Ctrl+D"))
    m.addAction(act("delete", "&Delete", on_canvas("delete_selection"), Key.Delete))
    m.addSeparator()
    m.addAction(act("select_all", "Select &All", on_canvas("select_all"), Key.SelectAll))
    m.addSeparator()
    m.addAction(act("collapse_block", "Collapse into &Block", on_canvas("collapse_selection"),
                    "Ctrl+G", "Put the selected layers into a new graph, used as one block"))
    m.addAction(act("expand_block", "E&xpand Block", on_canvas("expand_selected_block"),
                    "Ctrl+Shift+G", "Replace the selected block by the layers of its graph"))
    m.addAction(act("rename_graph", "Rena&me Graph…", lambda: rename_graph_dialog(w),
                    tip="Rename the graph in front (blocks that use it follow)"))

    m = bar.addMenu("&View")
    m.addAction(act("frame_all", "Frame &All", on_canvas("frame_all"), "Home"))
    m.addAction(act("frame_selection", "&Frame Selection", on_canvas("frame_selection"), "F"))
    m.addAction(act("auto_layout", "Auto-&layout", on_canvas("auto_layout"), "Ctrl+L",
                    "Arrange the layers left to right"))
    m.addSeparator()
    m.addAction(act("zoom_in", "Zoom &In", zoom_by(1.25), Key.ZoomIn))
    m.addAction(act("zoom_out", "Zoom &Out", zoom_by(0.8), Key.ZoomOut))
    m.addAction(act("zoom_reset", "Zoom &100 %", zoom_by(0), "Ctrl+0"))
    m.addSeparator()
    themes = m.addMenu("&Theme")
    group = QActionGroup(w)
    for name in THEMES.available():
        a = act(f"theme_{name}", name.capitalize(), lambda n=name: apply_theme(n))
        a.setCheckable(True)
        a.setChecked(name == THEMES.current.name)
        group.addAction(a)
        themes.addAction(a)
    m.addSeparator()
    for key, dock, text in (("toggle_palette", w.palette_dock, "&Layers"),
                            ("toggle_inspector", w.inspector_dock, "&Inspector"),
                            ("toggle_bottom", w.bottom_dock, "&Bottom Panel")):
        a = dock.toggleViewAction()
        a.setText(text)
        a.setObjectName(f"action_{key}")
        actions[key] = a
        m.addAction(a)

    m = bar.addMenu("&Help")
    m.addAction(act("start_page", "&Start Page…", w.show_start_page))
    m.addAction(act("about", "&About nnstudio", w.show_about))

    for name, a in actions.items():
        if name in CANVAS_KEYS:
            # Ctrl+C in the code view copies its text, Delete in a field deletes a
            # character: these keys act on nodes only while the canvas has the focus
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            w.canvases.addAction(a)
        else:
            w.addAction(a)  # shortcuts work while the menu bar is hidden or a dock floats
    w.recent.changed.connect(w.fill_recent_menu)
    fill_recent_menu(w)
    # the palette's Block category lists the project's graphs
    w.layer_palette.attach_session(w.session)
    return actions


def rename_graph_dialog(w: MainWindow) -> None:
    canvas = w.canvas
    if canvas is None:
        return
    name, ok = QInputDialog.getText(w, "Rename Graph", "New name of the graph:",
                                    text=canvas.graph.name)
    if ok:
        canvas.rename_graph(name)


def _interop(w: MainWindow, which: str) -> None:
    if which == "import":
        from .import_dialog import open_import_dialog

        open_import_dialog(w)
    elif which == "weights":
        from .load_weights import open_load_weights

        open_load_weights(w)
    else:
        from .export_dialog import open_export_dialog

        open_export_dialog(w)


def fill_recent_menu(w: MainWindow) -> None:
    menu: QMenu = w.recent_menu
    menu.clear()
    paths = w.recent.paths()
    for i, path in enumerate(paths, 1):
        a = menu.addAction(f"&{i % 10}  {Path(path).name}")
        a.setStatusTip(path)
        a.setToolTip(path)
        a.setData(path)
        a.triggered.connect(lambda _c=False, p=path: w.files.open_path(p))
    if paths:
        menu.addSeparator()
        menu.addAction("Clear Recent Files", w.recent.clear)
    else:
        none = menu.addAction("No recent files")
        none.setEnabled(False)
