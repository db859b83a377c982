"""The runs of this session in a table: tick "overlay" to draw a run's curves next to
the current one, select two and press Compare to see what changed between them."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .plot_style import run_color
from .runs import RunRecord, RunStore, compare

COLUMNS = ("overlay", "run", "data set", "graph", "hyperparameters", "epochs", "status",
           "val loss", "val metric")
STATUS_TEXT = {"running": "running", "paused": "paused", "completed": "completed",
               "stopped": "stopped", "early_stopping": "early stop", "error": "error"}


def _swatch(color: QColor) -> QPixmap:
    pix = QPixmap(10, 10)
    pix.fill(color)
    return pix


class RunsView(QWidget):
    """Signals: ``csv_requested(RunRecord)`` — save that run's history (the dock asks where)."""

    csv_requested = Signal(object)

    def __init__(self, store: RunStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RunsView")
        self.store = store
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("RunsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("CompareRuns")
        self.compare_button.setToolTip("Select two runs to list what changed between them")
        self.compare_button.clicked.connect(self.compare_selected)
        self.csv_button = QPushButton("Save CSV…")
        self.csv_button.setToolTip("Save the selected run's per-epoch history as CSV")
        self.csv_button.clicked.connect(self._on_csv)
        hint = QLabel("Tick <i>overlay</i> to draw a run's curves beside the current one.")
        hint.setProperty("role", "muted")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addWidget(hint, 1)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.csv_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        store.added.connect(self._on_added)
        store.changed.connect(self.update_run)
        self.dialog: QDialog | None = None
        self._update_buttons()

    # ------------------------------------------------------------------ rows
    def _on_added(self, record: RunRecord) -> None:
        row = self.table.rowCount()
        with QSignalBlocker(self.table):
            self.table.insertRow(row)
            for col in range(len(COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem())
            check = self.table.item(row, 0)
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                           | Qt.ItemFlag.ItemIsSelectable)
            check.setData(Qt.ItemDataRole.UserRole, record.index)
            self.table.item(row, 1).setIcon(_swatch(run_color(record.index - 1)))
        self.update_run(record)

    def _row(self, record: RunRecord) -> int:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == record.index:
                return row
        return -1

    def update_run(self, record: RunRecord) -> None:
        row = self._row(record)
        if row < 0:
            return
        metric = next((m for m in ("accuracy", "r2") if record.final_metric(m) is not None), "")
        loss = record.final_metric("loss")
        epochs = record.result.epochs_completed if record.result else (
            record.last_step.epoch if record.last_step else 0)
        total = record.config.get("epochs", "?")
        values = ["", record.name, record.dataset.get("name", "?"), record.graph.get("name", ""),
                  record.hyperparameters(), f"{epochs}/{total}",
                  STATUS_TEXT.get(record.status, record.status),
                  "" if loss is None else f"{loss:.4g}",
                  f"{metric} {record.final_metric(metric):.4g}" if metric else ""]
        # only what changed is set: each set repaints its cell, and while a run goes this
        # is called at every epoch's end, on the main thread the trainer shares the GIL with
        check = Qt.CheckState.Checked if record.overlay else Qt.CheckState.Unchecked
        with QSignalBlocker(self.table):
            for col, text in enumerate(values):
                item = self.table.item(row, col)
                if item.text() != text:
                    item.setText(text)
            if self.table.item(row, 0).checkState() != check:
                self.table.item(row, 0).setCheckState(check)
            if record.status == "error":
                self.table.item(row, 6).setToolTip(record.message)

    def _record_at(self, row: int) -> RunRecord | None:
        index = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        return next((r for r in self.store.runs if r.index == index), None)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            record = self._record_at(item.row())
            if record is not None:
                self.store.set_overlay(record, item.checkState() == Qt.CheckState.Checked)

    def selected(self) -> list[RunRecord]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [r for r in (self._record_at(row) for row in rows) if r is not None]

    def select(self, records: list[RunRecord]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for record in records:
            self.table.selectRow(self._row(record))
        self.table.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        n = len(self.selected())
        self.compare_button.setEnabled(n == 2)
        self.csv_button.setEnabled(n == 1)

    def _on_csv(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            self.csv_requested.emit(chosen[0])

    # ------------------------------------------------------------------ compare
    def compare_selected(self) -> QDialog | None:
        chosen = self.selected()
        if len(chosen) != 2:
            return None
        return self.show_comparison(*chosen)

    def show_comparison(self, a: RunRecord, b: RunRecord) -> QDialog:
        """Open (not modal) a window listing what changed from run ``a`` to run ``b``."""
        lines = compare(a, b).lines()
        if self.dialog is not None:
            self.dialog.destroyed.disconnect(self._on_dialog_gone)
            self.dialog.close()
        dialog = QDialog(self)
        dialog.setObjectName("CompareDialog")
        dialog.setWindowTitle(f"{a.name} → {b.name}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        text = QTextBrowser()
        text.setObjectName("CompareText")
        body = "".join(f"<li>{escape(line)}</li>" for line in lines)
        metrics = []
        for r in (a, b):
            loss, acc = r.final_metric("loss"), r.final_metric("accuracy")
            bits = [f"val loss {loss:.4g}" if loss is not None else "",
                    f"accuracy {acc:.4g}" if acc is not None else ""]
            metrics.append(f"<b>{escape(r.name)}</b>: {escape(' · '.join(b for b in bits if b) or 'no metrics')}")
        text.setHtml(f"<h3>What changed from {escape(a.name)} to {escape(b.name)}</h3>"
                     f"<ul>{body}</ul><p>{'<br>'.join(metrics)}</p>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(buttons)
        dialog.resize(520, 360)
        dialog.destroyed.connect(self._on_dialog_gone)
        self.dialog = dialog
        dialog.show()
        return dialog

    def _on_dialog_gone(self, *_args) -> None:
        self.dialog = None
