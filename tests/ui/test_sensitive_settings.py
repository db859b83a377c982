"""The Training panel offers a built-in table's sensitive column: a combo of its columns
("(none)" first) and a "keep in inputs" box that means something only once a column is
chosen; both are undoable edits of the project, and a run on them reaches the Fairness
tab."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel

from nnstudio.data.sensitive import COLUMNS

from .conftest import dock_of, finish, small_project


def form_labels(settings) -> list[str]:
    form = settings.options_form
    return [form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
            for r in range(form.rowCount())
            if isinstance(form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget(), QLabel)]


def test_diabetes_offers_its_columns_and_keep_in_inputs(train_window):
    window = train_window()
    session, settings = window.session, dock_of(window).settings
    settings.set_dataset("diabetes")
    combo, keep = settings.option_widget("sensitive"), settings.option_widget("keep_in_inputs")
    assert isinstance(combo, QComboBox) and isinstance(keep, QCheckBox)
    assert {"sensitive column", "keep in inputs"} <= set(form_labels(settings))
    assert [combo.itemText(i) for i in range(combo.count())] == ["(none)", *COLUMNS["diabetes"]]
    assert combo.currentText() == "(none)" and not keep.isEnabled()
    steps = session.undo_stack.count()
    combo.setCurrentIndex(combo.findText("sex"))
    assert session.project.training["dataset"] == {"name": "diabetes", "sensitive": "sex"}
    assert keep.isEnabled() and session.undo_stack.count() == steps + 1
    keep.setChecked(True)
    assert session.project.training["dataset"]["keep_in_inputs"] is True
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert "sensitive" not in session.project.training["dataset"]
    assert combo.currentText() == "(none)" and not keep.isChecked() and not keep.isEnabled()
    session.undo_stack.redo()
    assert combo.currentText() == "sex" and keep.isEnabled()
    assert settings.validate() == ""


def test_a_classification_table_shows_in_the_fairness_tab(qtbot, train_window):
    project = small_project(epochs=3)
    graph = project.graph()
    ids = {n.name: n.id for n in graph.nodes}
    graph.set_params(ids["x"], {"shape": [3], "dtype": "float"})
    graph.set_params(ids["fc3"], {"out_features": 3, "bias": True})
    project.training["dataset"] = {"name": "iris", "sensitive": "petal width (cm)"}
    window = train_window(project)
    dock = dock_of(window)
    assert dock.start()
    finish(qtbot, dock)
    assert dock.current.status == "completed", dock.error_banner.text()
    view = window.fairness_view
    report = view.report()
    assert report is not None and report.column == "petal width (cm)"
    assert [g.name for g in report.groups] == list(
        dict(dock.prepared.splits.info.sensitive)["petal width (cm)"])
    assert view.table.rowCount() >= 1 and view.card_button.isEnabled()


def test_an_older_project_with_lendings_former_option_name_shows_and_saves_the_new_one(
        train_window):
    project = small_project("fairness", n_samples=400)
    project.training["dataset"].pop("keep_in_inputs", None)
    project.training["dataset"]["sensitive_as_input"] = True  # saved by an older version
    window = train_window(project)
    session, settings = window.session, dock_of(window).settings
    keep = settings.option_widget("keep_in_inputs")
    assert isinstance(keep, QCheckBox) and keep.isChecked() and keep.isEnabled()
    assert "sensitive as input" not in form_labels(settings)
    keep.setChecked(False)
    spec = session.project.training["dataset"]
    assert spec["keep_in_inputs"] is False and "sensitive_as_input" not in spec
    session.undo_stack.undo()
    assert session.project.training["dataset"].get("sensitive_as_input") is True
    assert keep.isChecked()
