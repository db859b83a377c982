"""File ▸ Export As…: the current graph as source, TorchScript, ONNX, a training script or a
reproducibility bundle — the same exporters as ``nnstudio export --format``.

The dialog reads the document (the session's project and graph), never the canvas; the
trained weights come from the weights file beside the saved project, when there is one.

Exporting runs on a worker thread behind a progress dialog with a Cancel button
(:func:`nnstudio.ui.progress.run_with_progress`): the window keeps painting, a bundle
shows its training steps.  The exporter writes into a hidden folder beside the
destination (:class:`nnstudio.export.staging.Staging`) and the files move into place
only once it has finished, so a cancelled or failed export leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..graph.names import class_name
from ..graph.weights import weights_path


@dataclass(frozen=True)
class Format:
    key: str
    title: str
    suffix: str  # "" for a folder
    note: str
    uses_weights: bool


FORMATS = (
    Format("py", "PyTorch source (.py)", ".py",
           "The model's class, exactly as nnstudio runs it; the weights go to a .pt beside it.",
           True),
    Format("torchscript", "TorchScript (.pt)", ".pt",
           "Loads with torch.jit.load, without the source (C++ and mobile runtimes too).", True),
    Format("onnx", "ONNX (.onnx)", ".onnx",
           "For ONNX runtimes; checked with onnx.checker, and run with onnxruntime when "
           "installed.", True),
    Format("script", "Training script (.py)", ".py",
           "A standalone train.py: python train.py, or torchrun --nproc_per_node=N train.py. "
           "Loads the project's data set to check it.", False),
    Format("bundle", "Reproducibility bundle (folder)", "",
           "Project, source, script, weights, metrics, seed, data fingerprint and package "
           "versions. Trains the project first (as nnstudio train does).", False),
)


class ExportDialog(QDialog):
    """Choose a format and a destination for the session's current graph."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ExportDialog")
        self.setWindowTitle("Export")
        self.resize(620, 300)
        self.session = session
        self.written: str | None = None

        self.format = QComboBox()
        self.format.setObjectName("ExportFormat")
        from ..export.onnx_export import INSTALL_HINT, onnx_available

        for i, f in enumerate(FORMATS):
            self.format.addItem(f.title, f.key)
            if f.key == "onnx" and not onnx_available():
                item = self.format.model().item(i)
                item.setEnabled(False)
                item.setToolTip(f"ONNX export needs the onnx package: {INSTALL_HINT}")
        self.graph = QComboBox()
        self.graph.setObjectName("ExportGraph")
        project = session.project
        for g in project.graphs:
            self.graph.addItem(g.name)
        current = session.current_graph
        if current is not None:
            self.graph.setCurrentText(current.name)
        self.output = QLineEdit()
        self.output.setObjectName("ExportOutput")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.with_weights = QCheckBox()
        self.with_weights.setObjectName("ExportWeights")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setProperty("role", "muted")
        self.status = QLabel()
        self.status.setObjectName("ExportStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.output, 1)
        h.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Graph", self.graph)
        form.addRow("Write to", row)
        form.addRow("", self.with_weights)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.ApplyRole)
        self.export_button.setObjectName("ExportButton")
        self.export_button.clicked.connect(self.run_export)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.status, 1)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._on_format)
        self.graph.currentIndexChanged.connect(self._on_format)
        self._on_format()

    # ----------------------------------------------------------------- fields
    @property
    def chosen(self) -> Format:
        return FORMATS[self.format.currentIndex()]

    def set_format(self, key: str) -> None:
        self.format.setCurrentIndex(next(i for i, f in enumerate(FORMATS) if f.key == key))

    def _folder(self) -> Path:
        path = self.session.path
        return Path(path).parent if path else Path.home()

    def weights_file(self) -> Path | None:
        """The trained weights beside the saved project, if there are any."""
        if not self.session.path:
            return None
        graph = self.session.project.graph(self.graph.currentText())
        path = weights_path(self.session.path, graph)
        return path if path.is_file() else None

    def _on_format(self, *_args) -> None:
        f = self.chosen
        name = class_name(self.graph.currentText() or "Net")
        stem = {"script": "train", "bundle": f"{name}-bundle"}.get(f.key, name)
        self.output.setText(str(self._folder() / f"{stem}{f.suffix}"))
        self.note.setText(f.note)
        weights = self.weights_file() if f.uses_weights else None
        self.with_weights.setVisible(f.uses_weights)
        self.with_weights.setEnabled(weights is not None)
        self.with_weights.setChecked(weights is not None)
        self.with_weights.setText(f"Include the trained weights ({weights.name})" if weights
                                  else "Include the trained weights (none saved beside the "
                                       "project yet)")
        self.status.clear()

    def _browse(self) -> None:
        f = self.chosen
        if not f.suffix:
            path = QFileDialog.getExistingDirectory(self, "Bundle into (an empty folder)",
                                                    str(self._folder()))
        else:
            path, _ = QFileDialog.getSaveFileName(self, f"Export {f.title}", self.output.text(),
                                                  f"{f.title} (*{f.suffix})")
            if path and not path.endswith(f.suffix):
                path += f.suffix
        if path:
            self.output.setText(path)

    # ----------------------------------------------------------------- the work
    def run_export(self) -> bool:
        """Export with the fields as they are, behind a progress dialog that can cancel
        it; the outcome is shown in the dialog.  True once the files are in place."""
        from ..export.python_source import ExportError
        from ..export.staging import Staging
        from .progress import OperationCancelled, run_with_progress

        text = self.output.text().strip()
        if not text:
            self.status.setText("Choose where to write it.")
            return False
        f = self.chosen
        out = Path(text).expanduser()
        problem = _destination_problem(f, out)
        if problem:
            self.status.setText(f"Not exported: {problem}")
            return False
        weights = self.weights_file() if f.uses_weights and self.with_weights.isChecked() else None
        graph = self.graph.currentText()
        export = _EXPORTS[f.key]
        self.export_button.setEnabled(False)
        self.status.setText(f"Exporting {out.name}…")
        try:
            with Staging(out) as staging:
                message = run_with_progress(
                    self, "Export", lambda progress: export(self.session, graph, staging.target,
                                                            weights, progress),
                    label=f"Exporting {f.title} to {out.name}…")
                staging.commit()
        except OperationCancelled:
            self.status.setText("Export cancelled: nothing was written.")
            return False
        except ExportError as e:
            self.status.setText(f"Not exported: {e}")
            return False
        except OSError as e:
            where = Path(e.filename).name if e.filename else out.name
            self.status.setText(f"Not exported: {where}: {e.strerror or e}")
            return False
        finally:
            self.export_button.setEnabled(True)
        self.written = str(out)
        self.status.setText(message)
        return True


def _destination_problem(f: Format, out: Path) -> str | None:
    """Why ``out`` cannot take an export of format ``f`` (before any work is done)."""
    if not out.parent.is_dir():
        return f"{out.parent}: no such folder"
    if f.suffix and out.is_dir():
        return f"{out} is a folder; give a file name"
    if not f.suffix and out.exists() and not out.is_dir():
        return f"{out} is a file; choose a new or empty folder for the bundle"
    if not f.suffix and out.is_dir() and any(out.iterdir()):
        return f"the folder {out.name} is not empty; choose a new or empty folder"
    return None


def _py(session, graph: str, out: Path, weights, progress) -> str:
    from ..export.python_source import export_python

    progress(0, 0, f"writing {out.name}")
    r = export_python(session.project, out, weights=weights, graph=graph)
    extra = f" and {r.weights_path.name}" if r.weights_path else ""
    return f"Wrote {r.source_path.name}{extra} (class {r.class_name})."


def _torchscript(session, graph: str, out: Path, weights, progress) -> str:
    from ..export.torchscript import export_torchscript

    progress(0, 0, f"compiling {out.name} to TorchScript and loading it back")
    r = export_torchscript(session.project, out, weights=weights, graph=graph)
    how = "scripted" if r.method == "script" else "traced"
    return f"Wrote {r.path.name} (TorchScript, {how}); loaded back, its outputs agree."


def _onnx(session, graph: str, out: Path, weights, progress) -> str:
    from ..export.onnx_export import export_onnx

    progress(0, 0, f"exporting {out.name} to ONNX and checking it")
    r = export_onnx(session.project, out, weights=weights, graph=graph)
    check = ("onnxruntime gives the same outputs" if r.runtime_checked
             else "onnxruntime is not installed, so it was not run")
    return f"Wrote {r.path.name}: onnx.checker passed; {check}."


def _script(session, graph: str, out: Path, weights, progress) -> str:
    from ..export.script import export_script

    progress(0, 0, "loading the data set to check the model against it")
    r = export_script(session.project, out, graph=graph, project_path=session.path,
                      progress=progress)
    data = f" and {r.data_path.name}" if r.data_path else ""
    return (f"Wrote {r.path.name}{data}. Run it with: python {r.path.name}  — or on N "
            f"processes: torchrun --nproc_per_node=N {r.path.name}")


def _bundle(session, graph: str, out: Path, weights, progress) -> str:
    from ..export.bundle import export_bundle

    r = export_bundle(session.project, out, graph=graph, project_path=session.path,
                      progress=progress)
    return f"Wrote the bundle {r.path.name}/: {', '.join(r.files)}. See its README.md."


_EXPORTS: dict[str, Callable[..., str]] = {"py": _py, "torchscript": _torchscript,
                                           "onnx": _onnx, "script": _script, "bundle": _bundle}


def open_export_dialog(window) -> ExportDialog:
    """Show the dialog over ``window`` (not blocking); returns it."""
    dialog = ExportDialog(window.session, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
