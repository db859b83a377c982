"""One editor widget per parameter kind, chosen from a table (``EDITORS``) rather than an
``isinstance`` chain, so a new kind means one new class and one new row.

An editor shows a value (``set_value``, which never emits) and reports what the person
chose (``committed(value)``, once per finished edit).  It does not judge the value: the
inspector asks the parameter (:meth:`Param.coerce`) and the document.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ..graph.params import Param

INT_LIMIT = 2**31 - 1


class ParamEditor(QWidget):
    committed = Signal(object)

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.param = param
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    @property
    def field(self) -> QWidget:
        """The input widget a person types into or clicks (tests drive this one)."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


class IntEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.spin = QSpinBox(self)
        lo = -INT_LIMIT if param.min is None else max(-INT_LIMIT, int(param.min))
        hi = INT_LIMIT if param.max is None else min(INT_LIMIT, int(param.max))
        self.spin.setRange(lo, hi)
        # one command per finished edit (Enter, focus out, arrows), not per keystroke
        self.spin.setKeyboardTracking(False)
        self.spin.setAccelerated(True)
        self.spin.valueChanged.connect(self.committed.emit)
        self._layout.addWidget(self.spin)

    @property
    def field(self) -> QSpinBox:
        return self.spin

    def set_value(self, value) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(int(value))

    def value(self) -> int:
        return self.spin.value()


class ScientificSpinBox(QDoubleSpinBox):
    """A float spin box that shows 0.5 as "0.5" and 1e-05 as "1e-05", and accepts both.

    Bounds like eps ≥ 1e-12 need many decimals internally; showing them all would read
    "0.000010000000", so text goes through ``%g`` instead.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip().replace(",", ".")
        if t in ("", "-", "+", ".", "-.", "+.") or t.lower().endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(v):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= v <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class FloatEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.spin = ScientificSpinBox(self)
        self.spin.setRange(-1e12 if param.min is None else float(param.min),
                           1e12 if param.max is None else float(param.max))
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(self.committed.emit)
        self._layout.addWidget(self.spin)

    @property
    def field(self) -> QDoubleSpinBox:
        return self.spin

    def set_value(self, value) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(float(value))

    def value(self) -> float:
        return self.spin.value()


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self.check.toggled.connect(self.committed.emit)
        self._layout.addWidget(self.check)
        self._layout.addStretch(1)

    @property
    def field(self) -> QCheckBox:
        return self.check

    def set_value(self, value) -> None:
        with QSignalBlocker(self.check):
            self.check.setChecked(bool(value))

    def value(self) -> bool:
        return self.check.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.addItems(list(param.choices))
        self.combo.currentIndexChanged.connect(lambda i: self.committed.emit(self.combo.itemText(i)))
        self._layout.addWidget(self.combo)

    @property
    def field(self) -> QComboBox:
        return self.combo

    def set_value(self, value) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setCurrentText(str(value))

    def value(self) -> str:
        return self.combo.currentText()


class IntsEditor(ParamEditor):
    """A list of integers typed as "3, 3"; the text goes to :meth:`Param.coerce` as is."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        n = param.min_len if param.min_len == param.max_len else None
        self.line.setPlaceholderText(
            ", ".join(["n"] * n) if n else "integers separated by commas")
        self.line.editingFinished.connect(self._finished)
        self._layout.addWidget(self.line)

    def _finished(self) -> None:
        self.committed.emit(self.line.text())

    @property
    def field(self) -> QLineEdit:
        return self.line

    def set_value(self, value) -> None:
        with QSignalBlocker(self.line):
            self.line.setText(", ".join(str(v) for v in value))

    def value(self) -> str:
        return self.line.text()


class TextEditor(ParamEditor):
    """One line of text (a Block's source file)."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        self.line.editingFinished.connect(lambda: self.committed.emit(self.line.text()))
        self._layout.addWidget(self.line)

    @property
    def field(self) -> QLineEdit:
        return self.line

    def set_value(self, value) -> None:
        with QSignalBlocker(self.line):
            self.line.setText(str(value))

    def value(self) -> str:
        return self.line.text()


class GraphEditor(ParamEditor):
    """The name of a graph (the one a Block runs): typed, or picked from the choices the
    inspector offers (:meth:`set_choices`: the project's other graphs)."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.lineEdit().editingFinished.connect(self._finished)
        self.combo.activated.connect(lambda _i: self._finished())
        self._layout.addWidget(self.combo)

    def _finished(self) -> None:
        self.committed.emit(self.combo.currentText())

    def set_choices(self, choices: list[str]) -> None:
        text = self.combo.currentText()
        with QSignalBlocker(self.combo):
            self.combo.clear()
            self.combo.addItems(choices)
            self.combo.setCurrentText(text)

    @property
    def field(self) -> QComboBox:
        return self.combo

    def set_value(self, value) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setCurrentText(str(value))

    def value(self) -> str:
        return self.combo.currentText()


class NamesEditor(ParamEditor):
    """Names the document keeps (a Block's ports): shown, not edited."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.label = QLabel(self)
        self.label.setProperty("role", "muted")
        self.label.setWordWrap(True)
        self._layout.addWidget(self.label, 1)
        self._value: tuple = ()

    @property
    def field(self) -> QLabel:
        return self.label

    def set_value(self, value) -> None:
        self._value = tuple(value)
        self.label.setText(", ".join(self._value) or "—")

    def value(self) -> tuple:
        return self._value


EDITORS: dict[str, type[ParamEditor]] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "ints": IntsEditor,
    "text": TextEditor,
    "graph": GraphEditor,
    "names": NamesEditor,
}


def make_editor(param: Param, parent: QWidget | None = None) -> ParamEditor:
    return EDITORS[param.kind](param, parent)
