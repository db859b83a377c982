"""The run's settings, bound to ``project.training``: data set and its options,
optimizer, loss, learning rate, batch size, epochs, schedule, weight decay, seed, device.

Every change is one undoable :class:`SetTrainingCommand` on the session's undo stack
(so Ctrl+Z takes it back and the window's dirty marker follows); a run of changes to one
field (spinning the learning rate) merges into one step.  The form re-reads the project
whenever the undo stack moves or the project is replaced, and never holds state itself.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnstudio.data import DatasetError, Option, get_dataset, list_datasets
from nnstudio.graph.document import Project
from nnstudio.train import TrainConfig, recipe_class, recipe_names
from nnstudio.train.config import DEVICES, OPTIMIZERS, SCHEDULES
from nnstudio.train.project_run import RunSetupError, dataset_spec, train_config

from ..commands import Command
from ..param_editors import ScientificSpinBox
from ..session import ProjectSession

INT_LIMIT = 2**31 - 1
NICE_STEPS = (1.0, 2.0, 5.0)  # a learning rate steps 1e-3 → 2e-3 → 5e-3 → 1e-2
# an option that only means something while another one is set: it is greyed out until then
DEPENDS_ON = {"keep_in_inputs": "sensitive"}
NO_CHOICE = "(none)"  # how a choice of "" reads in a combo (e.g. no sensitive column)


def _canonical(spec: dict[str, Any]) -> dict[str, Any]:
    """A data set spec with options under their current names (an older project may use
    a former one); as it is if the data set is unknown or names one option twice."""
    try:
        return get_dataset(spec.get("name", "")).canonical(spec)
    except DatasetError:
        return dict(spec)


def option_label(opt: Option) -> str:
    """The label of a data set option in the form."""
    if opt.name == "sensitive":  # a choice of one column, or a list of them (CSV, lending)
        label = "sensitive column" if opt.choices else "sensitive columns"
    else:
        label = opt.name.replace("_", " ")
    return label + (" *" if opt.required else "")


class SetTrainingCommand(Command):
    """Replace ``project.training``; successive edits of the same field merge."""

    ID = 2001

    def __init__(self, project: Project, training: dict[str, Any], field: str, text: str):
        super().__init__(text)
        self.project = project
        self.old = copy.deepcopy(project.training)
        self.new = copy.deepcopy(training)
        self.field = field

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if other.project is not self.project or other.field != self.field:
            return False
        self.new = other.new
        return True

    def apply(self) -> None:
        self.project.set_training(self.new)

    def revert(self) -> None:
        self.project.set_training(self.old)


class NiceStepSpinBox(ScientificSpinBox):
    """A positive float that the arrows move along 1, 2, 5 × 10^k (0 steps up to the
    minimum step when ``zero_ok``)."""

    def __init__(self, lowest: float, highest: float, zero_ok: bool = False, parent=None):
        super().__init__(parent)
        self.lowest = lowest
        self.setRange(0.0 if zero_ok else lowest, highest)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if value <= 0:
            if steps > 0:
                self.setValue(self.lowest)
            return
        k = math.floor(math.log10(value) + 1e-9)
        mant = value / 10**k
        i = min(range(3), key=lambda j: abs(NICE_STEPS[j] - mant))
        pos = 3 * k + i + steps
        new = NICE_STEPS[pos % 3] * 10 ** (pos // 3)
        if new < self.lowest and self.minimum() == 0.0:
            new = 0.0
        self.setValue(min(max(new, self.minimum()), self.maximum()))

    def stepEnabled(self):
        return (QDoubleSpinBox.StepEnabledFlag.StepUpEnabled
                | QDoubleSpinBox.StepEnabledFlag.StepDownEnabled)


def _device_available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())
    return True


def _spin(lo: int, hi: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    return spin


class TrainingSettings(QWidget):
    """Signals: ``changed()`` — the project's training settings changed (any way)."""

    changed = Signal()

    def __init__(self, session: ProjectSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingSettings")
        self.session = session
        self._shown: dict[str, Any] | None = None
        self._option_widgets: dict[str, tuple[Option, QWidget]] = {}
        self._options_for: str | None = None

        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("DatasetChoice")
        model = QStandardItemModel(self.dataset_combo)
        self.dataset_combo.setModel(model)
        group = None
        for entry in list_datasets():
            if group is not None and entry.group != group:
                self.dataset_combo.insertSeparator(self.dataset_combo.count())
            group = entry.group
            self.dataset_combo.addItem(f"{entry.title}", entry.name)
            self.dataset_combo.setItemData(self.dataset_combo.count() - 1, entry.description,
                                           Qt.ItemDataRole.ToolTipRole)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_chosen)
        self.options_form = QFormLayout()
        self.options_form.setContentsMargins(0, 0, 0, 0)

        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.loss = QComboBox()
        self.lr = NiceStepSpinBox(1e-7, 10.0)
        self.batch_size = _spin(1, 1 << 20)
        self.epochs = _spin(1, 1_000_000)
        self.schedule = QComboBox()
        self.schedule.addItems(SCHEDULES)
        self.weight_decay = NiceStepSpinBox(1e-6, 10.0, zero_ok=True)
        self.seed = _spin(0, INT_LIMIT)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        for i, name in enumerate(DEVICES):
            if not _device_available(name):
                item = self.device.model().item(i)
                item.setEnabled(False)
                item.setToolTip(f"{name} is not available on this machine")
        self.live = QCheckBox("live activations")
        self.live.setToolTip("Look inside the network while it trains (a few % slower)")
        self.error = QLabel()
        self.error.setObjectName("SettingsError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()

        bind: list[tuple[str, QWidget, Callable[[Any], Any]]] = [
            ("optimizer", self.optimizer, str), ("loss", self.loss, str), ("lr", self.lr, float),
            ("batch_size", self.batch_size, int), ("epochs", self.epochs, int),
            ("schedule", self.schedule, str), ("weight_decay", self.weight_decay, float),
            ("seed", self.seed, int), ("device", self.device, str)]
        self._fields = {key: widget for key, widget, _ in bind}
        for key, widget, cast in bind:
            if isinstance(widget, QComboBox):
                widget.currentTextChanged.connect(
                    lambda value, k=key, c=cast: self.set_config(k, c(value)))
            else:
                widget.valueChanged.connect(lambda value, k=key, c=cast: self.set_config(k, c(value)))
        self.live.toggled.connect(self._on_live)

        hyper = QFormLayout()
        hyper.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Optimizer", self.optimizer), ("Loss", self.loss),
                              ("Learning rate", self.lr), ("Batch size", self.batch_size),
                              ("Epochs", self.epochs), ("LR schedule", self.schedule),
                              ("Weight decay", self.weight_decay), ("Seed", self.seed),
                              ("Device", self.device)):
            hyper.addRow(label, widget)
        hyper.addRow("", self.live)
        data_col = QVBoxLayout()
        data_col.setSpacing(4)
        data_col.addWidget(_section("DATA SET"))
        data_col.addWidget(self.dataset_combo)
        data_col.addLayout(self.options_form)
        data_col.addStretch(1)
        hyper_col = QVBoxLayout()
        hyper_col.setSpacing(4)
        hyper_col.addWidget(_section("HYPERPARAMETERS"))
        hyper_col.addLayout(hyper)
        hyper_col.addStretch(1)
        columns = QHBoxLayout()
        columns.setSpacing(14)
        columns.addLayout(data_col, 1)
        columns.addLayout(hyper_col, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(columns)
        layout.addWidget(self.error)
        layout.addStretch(1)

        for widget in (self.dataset_combo, *self._fields.values()):
            _compact(widget)
        session.undo_stack.indexChanged.connect(self.refresh)
        session.project_replaced.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ reading
    @property
    def project(self) -> Project:
        return self.session.project

    def refresh(self, *_args) -> None:
        """Show the project's settings (no-op when they are what is shown)."""
        training = self.project.training
        if training == self._shown:
            return
        self._shown = copy.deepcopy(training)
        config = dict(training.get("config") or {})
        defaults = TrainConfig().to_dict()
        values = {**defaults, **config}
        spec = _canonical(training.get("dataset") or {})
        with QSignalBlocker(self.dataset_combo):
            index = self.dataset_combo.findData(spec.get("name"))
            self.dataset_combo.setCurrentIndex(index)
        if spec.get("name") != self._options_for:
            self._build_options(spec)
        else:  # never rebuild an editor while it is in use: only show the new values
            self._show_options(spec)
        try:
            losses = recipe_class(values["recipe"]).losses
        except Exception:  # noqa: BLE001 (an unknown recipe is reported by validate())
            losses = ("auto",)
        if list(losses) != [self.loss.itemText(i) for i in range(self.loss.count())]:
            with QSignalBlocker(self.loss):
                self.loss.clear()
                self.loss.addItems(losses)
        for key, widget in self._fields.items():
            with QSignalBlocker(widget):
                if isinstance(widget, QComboBox):
                    widget.setCurrentText(str(values[key]))
                else:
                    widget.setValue(values[key])
        with QSignalBlocker(self.live):
            self.live.setChecked(bool(values["activations"].get("enabled", True)))
        self.validate()
        self.changed.emit()

    def validate(self) -> str:
        """The problem with the settings as they are ("" if none), shown under the form."""
        problem = ""
        try:
            train_config(self.project)
            dataset_spec(self.project)
        except RunSetupError as e:
            problem = str(e)
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        return problem

    # ------------------------------------------------------------------ writing
    def _push(self, training: dict[str, Any], field: str, text: str) -> bool:
        return self.session.push(SetTrainingCommand(self.project, training, field, text))

    def set_config(self, key: str, value: Any) -> bool:
        """Set one hyperparameter (one undoable step; repeated edits of it merge)."""
        training = copy.deepcopy(self.project.training)
        config = training.setdefault("config", {})
        if config.get(key) == value:
            return False
        config[key] = value
        return self._push(training, f"config.{key}", f"Set {key.replace('_', ' ')} to {value}")

    def _on_live(self, on: bool) -> None:
        training = copy.deepcopy(self.project.training)
        acts = dict(training.setdefault("config", {}).get("activations") or {})
        acts["enabled"] = bool(on)
        training["config"]["activations"] = acts
        self._push(training, "config.activations", "Turn live activations " + ("on" if on else "off"))

    def set_dataset(self, name: str) -> bool:
        """Choose another data set: its options start from their defaults, and the recipe
        follows its task (classification or regression)."""
        training = copy.deepcopy(self.project.training)
        if (training.get("dataset") or {}).get("name") == name:
            return False
        training["dataset"] = {"name": name}
        try:
            task = get_dataset(name).task
        except DatasetError:
            task = ""
        config = training.setdefault("config", {})
        if task in recipe_names() and config.get("recipe", "classification") != task:
            config["recipe"] = task
            config["loss"] = "auto"
            config.pop("monitor", None)
        return self._push(training, "dataset", f"Train on {name}")

    def set_option(self, name: str, value: Any) -> bool:
        training = copy.deepcopy(self.project.training)
        spec = training.setdefault("dataset", {})
        current = _canonical(spec)
        if current.get(name) == value:
            return False
        spec.clear()
        spec.update(current)  # an option set now is saved under its current name
        spec[name] = value
        return self._push(training, f"dataset.{name}", f"Set {name} of the data set")

    def _on_dataset_chosen(self, index: int) -> None:
        name = self.dataset_combo.itemData(index)
        if name:
            self.set_dataset(name)

    # ------------------------------------------------------------------ options form
    def _build_options(self, spec: dict[str, Any]) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self._option_widgets.clear()
        self._options_for = spec.get("name")
        try:
            entry = get_dataset(spec.get("name", ""))
        except DatasetError:
            return
        for opt in entry.all_options():
            if opt.name == "seed":  # the run's seed drives the data set too
                continue
            widget = self._option_editor(opt, spec.get(opt.name, opt.default))
            widget.setToolTip(opt.doc)
            _compact(widget)
            self.options_form.addRow(option_label(opt), widget)
            self._option_widgets[opt.name] = (opt, widget)
        self._enable_dependent(spec)

    def _show_options(self, spec: dict[str, Any]) -> None:
        for name, (opt, widget) in self._option_widgets.items():
            value = spec.get(name, opt.default)
            field = widget.findChild(QLineEdit) if type(widget) is QWidget else widget
            with QSignalBlocker(field):
                if isinstance(field, QCheckBox):
                    field.setChecked(bool(value))
                elif isinstance(field, (QSpinBox, QDoubleSpinBox)):
                    field.setValue(value)
                elif isinstance(field, QComboBox):
                    field.setCurrentIndex(field.findData(value))
                elif isinstance(field, QLineEdit):
                    field.setText(str(value))
        self._enable_dependent(spec)

    def _enable_dependent(self, spec: dict[str, Any]) -> None:
        for name, needs in DEPENDS_ON.items():
            found, needed = self._option_widgets.get(name), self._option_widgets.get(needs)
            if found is not None and needed is not None:
                found[1].setEnabled(bool(spec.get(needs, needed[0].default)))

    def _option_editor(self, opt: Option, value: Any) -> QWidget:
        name = opt.name
        if opt.type is bool:
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda v, n=name: self.set_option(n, bool(v)))
            return box
        if opt.type is int:
            spin = _spin(int(opt.minimum) if opt.minimum is not None else -INT_LIMIT,
                         min(int(opt.maximum), INT_LIMIT) if opt.maximum is not None else INT_LIMIT)
            spin.setValue(int(value))
            spin.valueChanged.connect(lambda v, n=name: self.set_option(n, int(v)))
            return spin
        if opt.type is float:
            fspin = ScientificSpinBox()
            fspin.setRange(opt.minimum if opt.minimum is not None else -1e12,
                           opt.maximum if opt.maximum is not None else 1e12)
            fspin.setKeyboardTracking(False)
            fspin.setValue(float(value))
            fspin.valueChanged.connect(lambda v, n=name: self.set_option(n, float(v)))
            return fspin
        if opt.choices:
            combo = QComboBox()
            combo.setObjectName(f"option_{name}")
            for choice in opt.choices:
                combo.addItem(str(choice) if choice != "" else NO_CHOICE, choice)
            combo.setCurrentIndex(combo.findData(value))
            combo.setMaxVisibleItems(16)
            combo.currentIndexChanged.connect(
                lambda i, n=name, w=combo: i >= 0 and self.set_option(n, w.itemData(i)))
            return combo
        line = QLineEdit(str(value))
        line.setObjectName(f"option_{name}")
        line.editingFinished.connect(lambda n=name, w=line: self.set_option(n, w.text()))
        if not opt.widget:
            return line
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        browse = QPushButton("Browse…")
        browse.setObjectName(f"browse_{name}")
        browse.clicked.connect(lambda _c=False, o=opt, w=line: self._browse(o, w))
        row.addWidget(browse)
        return box

    def _browse(self, opt: Option, line: QLineEdit) -> None:
        if opt.widget == "folder":
            path = QFileDialog.getExistingDirectory(self, f"Choose {opt.name}", line.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, f"Choose {opt.name}", line.text())
        if path:
            line.setText(path)
            self.set_option(opt.name, path)

    def option_widget(self, name: str) -> QWidget | None:
        found = self._option_widgets.get(name)
        return found[1] if found else None


def _compact(widget: QWidget) -> None:
    """Let a field shrink with the panel instead of widening the whole window."""
    widget.setMinimumWidth(70)
    if isinstance(widget, QComboBox):
        widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        widget.setMinimumContentsLength(6)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "section")
    return label
