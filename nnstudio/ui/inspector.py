"""The inspector: the selected layer's name, parameters, shapes and training flags, and
for an activation layer a small plot of its function and derivative
(:mod:`.activation_plot`).

It is built from the document each time the selection changes and refreshed from the
document after every change (so undo moves its widgets back without pushing anything).
Every edit a person makes here becomes one command on the session's undo stack; values
are checked by the parameter itself (:meth:`Param.coerce`) and by the document, and a
refusal is shown in red under the field it concerns.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..graph.document import Graph, GraphError, Node
from ..graph.params import ParamError
from ..graph.shape_inference import InferenceResult
from ..graph.shapes import fmt_shape
from .activation_plot import ActivationPlot, plottable
from .commands import Command, RenameNodeCommand, SetParamsCommand, SetTrainingFlagsCommand
from .param_editors import ParamEditor, make_editor
from .session import ProjectSession
from .swatches import swatch_pixmap
from .theme import THEMES, theme


def _label(text: str = "", role: str | None = None, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    if role:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _error_label() -> QLabel:
    label = _label(role="error", wrap=True)
    label.hide()
    return label


def _set_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


class Inspector(QWidget):
    """Shows and edits the one selected node of the session's current graph."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("Inspector")
        self.session = session
        self._ids: list[str] = []
        self._built_for: tuple | None = None
        self._editors: dict[str, ParamEditor] = {}
        self._param_errors: dict[str, QLabel] = {}
        self._last_message = ""

        self.stack = QStackedWidget(self)
        self.placeholder = _label(role="muted", wrap=True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setObjectName("InspectorPlaceholder")
        self.placeholder.setContentsMargins(20, 20, 20, 20)
        self.stack.addWidget(self.placeholder)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack.addWidget(self.scroll)
        self._build_page()

        self.lock_banner = _label(role="warning", wrap=True)
        self.lock_banner.setObjectName("LockBanner")
        self.lock_banner.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.lock_banner)
        layout.addWidget(self.stack, 1)

        session.inferred.connect(self._on_inferred)
        # slots are methods, never lambdas: Qt drops a method's connection when this
        # widget is deleted, while a lambda would outlive it on the session or theme
        session.current_graph_changed.connect(self.clear_selection)
        session.project_replaced.connect(self.clear_selection)
        session.lock_changed.connect(self._on_lock_changed)
        session.message.connect(self._on_message)
        THEMES.changed.connect(self._on_theme)
        self._on_lock_changed(session.locked, session.lock_reason)
        self.set_selection([])

    # ----------------------------------------------------------------- layout
    def _build_page(self) -> None:
        page = QWidget()
        page.setObjectName("InspectorPage")
        v = QVBoxLayout(page)
        v.setContentsMargins(12, 10, 12, 12)
        v.setSpacing(6)

        head = QHBoxLayout()
        head.setSpacing(8)
        self.swatch = QLabel()
        self.type_label = _label(role="title")
        self.category_label = _label(role="muted")
        head.addWidget(self.swatch)
        head.addWidget(self.type_label)
        head.addStretch(1)
        head.addWidget(self.category_label)
        v.addLayout(head)
        self.doc_label = _label(role="muted", wrap=True)
        v.addWidget(self.doc_label)

        v.addWidget(_section("Name"))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("NodeName")
        self.name_edit.setToolTip("The layer's name: it becomes its attribute in the code")
        self.name_edit.editingFinished.connect(self._commit_name)
        self.name_error = _error_label()
        v.addWidget(self.name_edit)
        v.addWidget(self.name_error)

        v.addWidget(_section("Parameters"))
        self.params_box = QWidget()
        self.params_form = QFormLayout(self.params_box)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        self.params_form.setHorizontalSpacing(10)
        self.params_form.setVerticalSpacing(6)
        self.params_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.params_form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        v.addWidget(self.params_box)
        self.no_params = _label("This layer has no parameters to set.", role="muted", wrap=True)
        v.addWidget(self.no_params)

        v.addWidget(_section("Shapes"))
        self.shapes_label = _label(wrap=True)
        self.shapes_label.setObjectName("Shapes")
        self.shapes_label.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.shapes_label)
        self.node_error = _error_label()
        self.node_error.setObjectName("NodeError")
        v.addWidget(self.node_error)

        # made on the first activation shown: it loads pyqtgraph and compiles a layer
        self.function_title = _section("Function")
        self.function_title.hide()
        v.addWidget(self.function_title)
        self.function_box = QVBoxLayout()
        self.function_box.setContentsMargins(0, 0, 0, 0)
        v.addLayout(self.function_box)
        self.activation_plot: ActivationPlot | None = None

        self.training_title = _section("Transfer learning")
        v.addWidget(self.training_title)
        self.training_box = QWidget()
        form = QFormLayout(self.training_box)
        form.setContentsMargins(0, 0, 0, 0)
        self.frozen_check = QCheckBox("Frozen")
        self.frozen_check.setToolTip("Keep this layer's weights fixed while training")
        self.frozen_check.toggled.connect(self._commit_frozen)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setRange(0.0, 100.0)
        self.lr_spin.setDecimals(3)
        self.lr_spin.setSingleStep(0.1)
        self.lr_spin.setKeyboardTracking(False)
        self.lr_spin.setToolTip("This layer learns at (optimizer learning rate × this factor)")
        self.lr_spin.valueChanged.connect(self._commit_lr)
        form.addRow(self.frozen_check)
        form.addRow("Learning-rate ×", self.lr_spin)
        self.training_error = _error_label()
        form.addRow(self.training_error)
        v.addWidget(self.training_box)
        v.addStretch(1)
        self.page = page
        self.scroll.setWidget(page)

    # ----------------------------------------------------------------- selection
    @property
    def graph(self) -> Graph:
        return self.session.current_graph

    @property
    def node_id(self) -> str | None:
        return self._ids[0] if len(self._ids) == 1 else None

    def set_selection(self, ids) -> None:
        """Show the node when exactly one is selected, otherwise say how many are."""
        ids = list(ids)
        if ids != self._ids:
            self._built_for = None
            _set_error(self.name_error, None)
        self._ids = ids
        self.refresh()

    def clear_selection(self, *_args) -> None:
        self.set_selection([])

    def _on_theme(self, _theme) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Bring every widget in line with the document (never pushes a command)."""
        nid = self.node_id
        try:
            node = self.graph.node(nid) if nid is not None else None
        except GraphError:  # the node went away (undo of its creation, a delete)
            node = None
        if node is None:
            n = len(self._ids)
            self.placeholder.setText(
                f"{n} nodes selected\n\nSelect a single layer to edit it." if n > 1
                else "Select a layer on the canvas to see and edit its settings.")
            self.stack.setCurrentWidget(self.placeholder)
            self._built_for = None
            return
        key = (node.id, node.type, tuple(p.name for p in node.spec.params))
        if key != self._built_for:
            self._rebuild(node)
            self._built_for = key
        self._fill(node, self.session.inference(self.graph))
        self.stack.setCurrentWidget(self.scroll)

    def _on_inferred(self, graph: Graph, _result: InferenceResult) -> None:
        if self.node_id is not None and graph is self.graph:
            self.refresh()

    # ----------------------------------------------------------------- filling
    def _rebuild(self, node: Node) -> None:
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self._editors.clear()
        self._param_errors.clear()
        for param in node.spec.params:
            editor = make_editor(param)
            editor.setObjectName(f"param_{param.name}")
            editor.field.setToolTip(param.doc)
            editor.committed.connect(lambda value, name=param.name: self._commit_param(name, value))
            error = _error_label()
            cell = QWidget()
            cv = QVBoxLayout(cell)
            cv.setContentsMargins(0, 0, 0, 0)
            cv.setSpacing(2)
            cv.addWidget(editor)
            cv.addWidget(error)
            label = QLabel(param.name)
            label.setToolTip(param.doc)
            label.setBuddy(editor.field)
            self.params_form.addRow(label, cell)
            self._editors[param.name] = editor
            self._param_errors[param.name] = error
        has = bool(node.spec.params)
        self.params_box.setVisible(has)
        self.no_params.setVisible(not has)
        trainable = node.spec.count is not None
        self.training_title.setVisible(trainable)
        self.training_box.setVisible(trainable)
        _set_error(self.training_error, None)

    def _fill(self, node: Node, result: InferenceResult) -> None:
        spec = node.spec
        self.swatch.setPixmap(swatch_pixmap(theme().category(spec.category), 14))
        self.type_label.setText(spec.type)
        self.category_label.setText(spec.category)
        self.doc_label.setText(spec.doc)
        if self.name_error.isHidden() or not self.name_edit.hasFocus():
            with QSignalBlocker(self.name_edit):
                self.name_edit.setText(node.name)
            _set_error(self.name_error, None)
        for name, editor in self._editors.items():
            if editor.param.kind == "graph":  # offer the project's other graphs
                project = self.graph.project
                editor.set_choices([g.name for g in project.graphs if g is not self.graph]
                                   if project is not None else [])
            editor.set_value(node.params[name])
            _set_error(self._param_errors[name], None)
        with QSignalBlocker(self.frozen_check):
            self.frozen_check.setChecked(node.frozen)
        with QSignalBlocker(self.lr_spin):
            self.lr_spin.setValue(node.lr_mult)
        self.shapes_label.setText(self._shapes_html(node, result))
        errors = result.errors.get(node.id, [])
        _set_error(self.node_error, "\n".join(e.message for e in errors))
        self._fill_function(node)

    def _fill_function(self, node: Node) -> None:
        """Plot an activation's f and f' (with its parameters); hide the plot otherwise."""
        show = plottable(node.type)
        if show and self.activation_plot is None:
            self.activation_plot = ActivationPlot(self.page)
            self.function_box.addWidget(self.activation_plot)
        if self.activation_plot is not None:
            show = self.activation_plot.show_node(node) if show else False
            self.activation_plot.setVisible(show)
        self.function_title.setVisible(show)

    def _shapes_html(self, node: Node, result: InferenceResult) -> str:
        spec = node.spec
        rows = []
        in_ports = spec.input_ports(node.params)
        for port, shape in zip(in_ports, result.input_shapes(self.graph, node.id)):
            label = "Input" if len(in_ports) == 1 else f"Input {port.name}"
            rows.append((label, fmt_shape(shape) if shape is not None else "not connected"))
        out_ports = spec.output_ports(node.params)
        for port in out_ports:
            shape = result.output_shape(node.id, port.name)
            label = "Output" if len(out_ports) == 1 else f"Output {port.name}"
            rows.append((label, fmt_shape(shape) if shape is not None else "—"))
        count = result.param_counts.get(node.id)
        if spec.count is not None or count:
            rows.append(("Parameters", f"{count:,}" if count is not None else "—"))
        muted = theme().colors.get("muted", "#888")
        cells = "".join(
            f"<tr><td style='color:{muted}; padding-right:12px'>{escape(k)}</td>"
            f"<td style='font-family:monospace'>{escape(v)}</td></tr>" for k, v in rows)
        return f"<table cellspacing='0' cellpadding='2'>{cells}</table>"

    # ----------------------------------------------------------------- editing
    def _on_message(self, text: str) -> None:
        self._last_message = text

    def _push(self, command: Command) -> str | None:
        """Push ``command``; the reason it was refused, or None if it was done."""
        self._last_message = ""
        if self.session.push(command):
            return None
        return self._last_message or "the edit was refused"

    def _commit_name(self) -> None:
        nid = self.node_id
        if nid is None or nid not in self.graph:
            return
        text = self.name_edit.text().strip()
        if text == self.graph.node(nid).name:
            _set_error(self.name_error, None)
            return
        error = self._push(RenameNodeCommand(self.graph, nid, text))
        _set_error(self.name_error, error)

    def _commit_param(self, name: str, raw) -> None:
        nid = self.node_id
        if nid is None or nid not in self.graph:
            return
        node = self.graph.node(nid)
        try:
            value = node.spec.param(name).coerce(raw)
        except ParamError as e:
            _set_error(self._param_errors[name], str(e))
            return
        if node.params[name] == value:
            self._editors[name].set_value(value)  # "3,3" is shown back as "3, 3"
            _set_error(self._param_errors[name], None)
            return
        error = self._push(SetParamsCommand(self.graph, nid, {name: value}))
        if error and name in self._param_errors:
            # the document said no: show what it holds, and why
            self._editors[name].set_value(self.graph.node(nid).params[name])
            _set_error(self._param_errors[name], error)

    def _commit_frozen(self, frozen: bool) -> None:
        if self.node_id is not None:
            _set_error(self.training_error,
                       self._push(SetTrainingFlagsCommand(self.graph, self.node_id, frozen=frozen)))

    def _commit_lr(self, value: float) -> None:
        if self.node_id is not None:
            _set_error(self.training_error,
                       self._push(SetTrainingFlagsCommand(self.graph, self.node_id, lr_mult=value)))

    def _on_lock_changed(self, locked: bool, reason: str) -> None:
        self.lock_banner.setText(f"Read-only: {reason}" if locked else "")
        self.lock_banner.setVisible(locked)
        self.page.setEnabled(not locked)

    # ----------------------------------------------------------------- testing aids
    def editor(self, param: str) -> ParamEditor:
        """The editor of parameter ``param`` of the shown node."""
        return self._editors[param]

    def param_error(self, param: str) -> str:
        label = self._param_errors[param]
        return label.text() if not label.isHidden() else ""

    def name_error_text(self) -> str:
        return self.name_error.text() if not self.name_error.isHidden() else ""


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setProperty("role", "section")
    return label
