"""The Training panel's exports: the page in view as a PNG picture, a run's per-epoch
metrics as CSV.  A mixin of :class:`~.dock.TrainingDock` (it uses ``pages``,
``message`` and ``show_error``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from .plot_style import PlotPanel
from .runs import RunRecord


class DockExports:
    def export_png(self, path: str | Path, page: QWidget | None = None) -> bool:
        """Save the page in view (or ``page``) as a PNG picture; True if written."""
        widget = page or self.pages.currentWidget()
        if isinstance(widget, PlotPanel):
            widget.refresh()
        return widget.grab().save(str(path), "PNG")

    def export_png_dialog(self) -> None:
        title = self.pages.tabText(self.pages.currentIndex()).lower().replace(" ", "-")
        path, _ = QFileDialog.getSaveFileName(self, "Export plot as PNG", f"{title}.png",
                                              "PNG pictures (*.png)")
        if path:
            ok = self.export_png(path)
            self.message.emit(f"Saved {path}" if ok else f"Could not write {path}")

    def save_csv_dialog(self, record: RunRecord | None) -> None:
        if record is None:
            self.message.emit("No run to save yet.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save run history as CSV", f"{record.name.lower().replace(' ', '-')}.csv",
            "CSV files (*.csv)")
        if path:
            try:
                record.save_csv(path)
            except OSError as e:
                self.show_error(f"Could not save {path}: {e.strerror or e}")
                return
            self.message.emit(f"Saved {path}")
