"""File ▸ Import from PyTorch…: build a graph from an ``nn.Module`` in a Python file.

The dialog says plainly that importing runs the file's code, lists the classes the file
defines (read without running it), and asks for the example input shape(s), whether
submodules become blocks, and where to write the project.  The work is
:func:`nnstudio.export.importer.import_pytorch` and
:func:`~nnstudio.export.importer.save_imported`; what cannot be mapped comes back in
the dialog, one operation per line with its source line, and nothing is written.

The import runs on a worker thread behind a progress dialog (the window keeps
painting).  Cancel returns at once: the import writes nothing until it has finished, so
its late result, if the person's code is still running, is simply dropped.  Only then
is the project saved, weights first, each file atomically.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..graph.project_file import SUFFIX

WARNING = ("⚠ Importing <b>runs the code in this file</b>: Python executes it to build the "
           "model and trace one call of <code>forward</code>. Import only files you trust.")
BLOCKS = "Make each nn.Sequential and each class of your own a block"
BLOCKS_TIP = ("On: a block node that runs a graph of its own, shared by the uses that compute "
              "the same thing (two BasicBlocks). Off: every layer inlined in one graph, named "
              "by its module path (features.0 → features_0).")


class ImportDialog(QDialog):
    """Choose a file, a class and input shapes; :meth:`run_import` does the import.

    After a successful import ``project_path`` is the project file written (and the
    dialog is accepted).
    """

    def __init__(self, parent: QWidget | None = None, start_dir: str | None = None):
        super().__init__(parent)
        self.setObjectName("ImportDialog")
        self.setWindowTitle("Import from PyTorch")
        self.resize(640, 460)
        self.start_dir = start_dir or str(Path.home())
        self.project_path: str | None = None

        warning = QLabel(WARNING)
        warning.setObjectName("ImportWarning")
        warning.setProperty("role", "warning")
        warning.setWordWrap(True)
        warning.setTextFormat(Qt.TextFormat.RichText)

        self.source = QLineEdit()
        self.source.setObjectName("ImportSource")
        self.source.setPlaceholderText("model.py")
        self.source.editingFinished.connect(self._fill_classes)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_source)
        source_row = _row(self.source, browse)

        self.class_name = QComboBox()
        self.class_name.setObjectName("ImportClass")
        self.class_name.setEditable(True)
        self.shapes = QLineEdit("1,3,32,32")
        self.shapes.setObjectName("ImportShapes")
        self.shapes.setToolTip("The shape of an example input, batch first. For a forward "
                               "with several inputs, separate the shapes with ';'.")
        self.dtype = QComboBox()
        self.dtype.setObjectName("ImportDtype")
        self.dtype.addItems(["auto", "float", "long"])
        self.dtype.setToolTip("auto: token ids (long) for inputs that feed an nn.Embedding, "
                              "else real values (float)")
        self.blocks = QCheckBox(BLOCKS)
        self.blocks.setObjectName("ImportBlocks")
        self.blocks.setChecked(True)
        self.blocks.setToolTip(BLOCKS_TIP)
        self.output = QLineEdit()
        self.output.setObjectName("ImportOutput")
        self.output.setPlaceholderText(f"model{SUFFIX}")
        out_browse = QPushButton("Browse…")
        out_browse.clicked.connect(self._browse_output)

        form = QFormLayout()
        form.addRow("Python file", source_row)
        form.addRow("Class", self.class_name)
        form.addRow("Input shape", self.shapes)
        form.addRow("Input type", self.dtype)
        form.addRow("Submodules", self.blocks)
        form.addRow("Save project as", _row(self.output, out_browse))

        self.problems = QPlainTextEdit()
        self.problems.setObjectName("ImportProblems")
        self.problems.setReadOnly(True)
        self.problems.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("ImportButton")
        buttons.accepted.connect(self.run_import)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addLayout(form)
        layout.addWidget(self.problems, 1)
        layout.addStretch(0)  # takes the room while there are no problems to show
        layout.addWidget(buttons)

    # ----------------------------------------------------------------- fields
    def set_source(self, path: str) -> None:
        """Choose the Python file; fills the classes and a project name beside it."""
        self.source.setText(path)
        self._fill_classes()

    def _fill_classes(self) -> None:
        from ..export.import_trace import list_classes  # reads the file; never runs it

        path = Path(self.source.text().strip())
        current = self.class_name.currentText()
        self.class_name.clear()
        if path.is_file():
            self.class_name.addItems(list_classes(path))
            if current and self.class_name.findText(current) >= 0:
                self.class_name.setCurrentText(current)
            if not self.output.text().strip():
                self.output.setText(str(path.with_suffix(SUFFIX)))

    def _browse_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import from PyTorch", self.start_dir,
                                              "Python files (*.py);;All files (*)")
        if path:
            self.set_source(path)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the imported project",
                                              self.output.text() or self.start_dir,
                                              f"nnstudio projects (*{SUFFIX})")
        if path:
            self.output.setText(path if path.endswith(SUFFIX) else path + SUFFIX)

    def _show_problems(self, text: str) -> None:
        self.problems.setPlainText(text)
        self.problems.setVisible(True)

    def parsed_shapes(self) -> list[tuple[int, ...]]:
        """The shapes typed, or ValueError saying what is wrong with them."""
        shapes = []
        for part in self.shapes.text().split(";"):
            if not part.strip():
                continue
            try:
                shapes.append(tuple(int(d) for d in part.replace("x", ",").split(",")
                                    if d.strip()))
            except ValueError:
                raise ValueError(f"“{part.strip()}” is not a shape: write sizes separated by "
                                 "commas, batch first, e.g. 1,3,32,32") from None
        if not shapes:
            raise ValueError("give the shape of an example input, batch first, e.g. 1,3,32,32")
        return shapes

    # ----------------------------------------------------------------- the work
    def run_import(self) -> bool:
        """Import with the fields as they are; True (and accepted) when the project was
        written, else the problems are shown in the dialog."""
        from ..export.importer import ModelImportError, import_pytorch, save_imported
        from .progress import OperationCancelled, run_with_progress

        source = Path(self.source.text().strip())
        cls = self.class_name.currentText().strip()
        out = self.output.text().strip()
        if not source.is_file():
            self._show_problems(f"{source}: no such file")
            return False
        if not cls:
            self._show_problems("choose the class to import")
            return False
        if not out:
            self._show_problems("choose where to save the project")
            return False
        if not out.endswith(SUFFIX):
            out += SUFFIX
        try:
            shapes = self.parsed_shapes()
        except ValueError as e:
            self._show_problems(str(e))
            return False
        dtypes = None if self.dtype.currentText() == "auto" else [self.dtype.currentText()]
        blocks = self.blocks.isChecked()
        self.import_button.setEnabled(False)
        try:
            imported = run_with_progress(
                self, "Import from PyTorch",
                lambda progress: import_pytorch(source, cls, shapes, dtypes, blocks=blocks,
                                                progress=progress),
                label=f"Importing {cls} from {source.name}…", abandon_on_cancel=True)
            saved = run_with_progress(self, "Import from PyTorch",
                                      lambda progress: save_imported(imported, out),
                                      label=f"Saving {Path(out).name}…", cancellable=False)
        except OperationCancelled:
            self._show_problems("Import cancelled: nothing was written.")
            return False
        except ModelImportError as e:
            self._show_problems(str(e))
            return False
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            self._show_problems(f"cannot write the project: {where}{e.strerror or e}")
            return False
        finally:
            self.import_button.setEnabled(True)
        self.project_path = str(saved.project_path)
        self.accept()
        return True


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    h = QHBoxLayout(box)
    h.setContentsMargins(0, 0, 0, 0)
    for i, wdg in enumerate(widgets):
        h.addWidget(wdg, 1 if i == 0 else 0)
    return box


BUSY = ("Stop the training first: importing traces the model with torch.fx, which swaps "
        "how every PyTorch layer in this program is called while it runs, so it cannot run "
        "beside a training run.")


def open_import_dialog(window) -> str | None:
    """Show the dialog over ``window``; open the imported project; its path, or None.

    Refused (with a message) while the session is locked, i.e. while a run trains."""
    if window.session.locked:
        QMessageBox.information(window, "Import from PyTorch", BUSY)
        return None
    start = str(Path(window.session.path).parent) if window.session.path else None
    dialog = ImportDialog(window, start)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.project_path:
            return None
        path = dialog.project_path
    finally:
        dialog.deleteLater()
    window.files.open_path(path)
    return path
