"""The Fairness tab's numbers: the gaps of the report on screen, and every run of the
session side by side.

:class:`FairRun` is one finished run as the tab keeps it; :class:`GapsPanel` shows the
gaps between groups with their definitions one hover away and large gaps flagged;
:class:`RunsTable` lists each classifier run as trained and with per-group thresholds,
so accuracy can be read against each gap (a regressor has no mitigation to compare, so
it is shown in the charts and the gaps only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from nnstudio.train.fairness import DEFINITIONS, GAP_TITLES
from nnstudio.train.fairness_regression import (
    REGRESSION_GAP_NAMES,
    REGRESSION_GAP_TITLES,
    gap_is_large,
    is_regression,
)
from nnstudio.train.fairness_run import FairnessEvaluation

from .theme import theme

GAPS_SHOWN = ("dp_difference", "dp_ratio", "eo_difference", "eo_ratio")
REGRESSION_GAPS_SHOWN = REGRESSION_GAP_NAMES
TABLE_COLUMNS = (("run", "run", ""), ("mitigation", "mitigation", ""),
                 ("accuracy", "accuracy", "accuracy"),
                 ("dp_difference", "DP difference", "dp_difference"),
                 ("dp_ratio", "DP ratio", "dp_ratio"),
                 ("eo_difference", "EO difference", "eo_difference"))


def warn(gap: str, value: float) -> bool:
    """Whether a classifier's gap is large enough to flag (rules of thumb, said in the
    tooltips)."""
    if gap.endswith("ratio"):
        return value < 0.8
    return value > 0.1


@dataclass
class FairRun:
    """One finished run as the view keeps it."""

    name: str
    evaluations: list[FairnessEvaluation]
    prepared: Any = None  # PreparedRun, for the model card
    result: Any = None  # TrainResult

    @property
    def regression(self) -> bool:
        return bool(self.evaluations) and self.evaluations[0].regression

    def rows(self) -> list[dict[str, Any]]:
        """One row per set of decisions of the first column (none for a regressor)."""
        if not self.evaluations or self.regression:
            return []
        ev = self.evaluations[0]
        base = "re-weighted" if ev.reweight == "group_label" else "unmitigated"
        out = []
        for report in ev.reports:
            how = base if report.label == "as trained" else f"{base} + {report.label}"
            out.append({"run": self.name, "mitigation": how,
                        "accuracy": report.overall["accuracy"], **report.gaps})
        return out


class GapsPanel(QFrame):
    """The gaps between groups of one report; ``labels`` maps gap -> (name, value)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FairnessGaps")
        self.labels: dict[str, tuple[QLabel, QLabel]] = {}
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(6, 2, 6, 2)
        title = QLabel("<b>Gaps between groups</b>")
        title.setToolTip("Hover over a gap for its definition")
        self.grid.addWidget(title, 0, 0, 1, 2)
        self._kind = ""
        self._build("classification")

    def _build(self, kind: str) -> None:
        if kind == self._kind:
            return
        for name, value in self.labels.values():
            for label in (name, value):
                self.grid.removeWidget(label)
                label.hide()  # at once: deleteLater waits for the event loop
                label.deleteLater()
        self.labels.clear()
        shown, titles = ((REGRESSION_GAPS_SHOWN, REGRESSION_GAP_TITLES) if kind == "regression"
                         else (GAPS_SHOWN, GAP_TITLES))
        for row, gap in enumerate(shown, start=1):
            name, value = QLabel(titles[gap]), QLabel("—")
            value.setObjectName(f"gap_{gap}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for label in (name, value):
                label.setToolTip(DEFINITIONS[gap])
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(value, row, 1)
            self.labels[gap] = (name, value)
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        self.grid.setRowStretch(len(shown) + 1, 1)
        self._kind = kind

    def show_report(self, report: Any) -> None:
        regression = is_regression(report)
        self._build("regression" if regression else "classification")
        t = theme()
        for gap, (name, value) in self.labels.items():
            v = report.gaps.get(gap, float("nan"))
            flag = gap_is_large(report, gap) if regression else warn(gap, v)
            color = t.colors.get("error", "#e06c75") if flag else t.colors.get("text", "#ddd")
            shown = f"{v:.4g}" if regression else f"{v:.3f}"
            value.setText(f"<span style='color:{color}'><b>{shown}</b></span>")
            tip = DEFINITIONS[gap] + f"<br><br>Here: {shown}" + (
                " — a large gap." if flag else ".")
            name.setToolTip(tip)
            value.setToolTip(tip)


class RunsTable(QTableWidget):
    """Every classifier run of the session, as trained and with per-group thresholds;
    ``row_keys[row]`` is the (run, report index) a row shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(TABLE_COLUMNS), parent)
        self.setObjectName("FairnessRuns")
        self.row_keys: list[tuple[FairRun, int]] = []
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for c, (_, header, definition) in enumerate(TABLE_COLUMNS):
            item = QTableWidgetItem(header)
            if definition:
                item.setToolTip(DEFINITIONS[definition])
            self.setHorizontalHeaderItem(c, item)
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Every run of the session, as trained and with per-group "
                        "thresholds: read accuracy against each gap.<br><br>"
                        + DEFINITIONS["reweight"] + "<br><br>" + DEFINITIONS["thresholds"])

    def add_run(self, run: FairRun) -> None:
        for index, row in enumerate(run.rows()):
            self.row_keys.append((run, index))
            r = self.rowCount()
            self.insertRow(r)
            for c, (key, _, _) in enumerate(TABLE_COLUMNS):
                value = row.get(key, "")
                text = f"{value:.3f}" if isinstance(value, float) else str(value)
                cell = QTableWidgetItem(text)
                if isinstance(value, float):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                    if key != "accuracy" and warn(key, value):
                        cell.setForeground(QColor(theme().colors.get("error", "#e06c75")))
                self.setItem(r, c, cell)
        self.scrollToBottom()
