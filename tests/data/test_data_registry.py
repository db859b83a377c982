"""The registry: names, typed options, refusal of duplicates, progress and cancel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nnstudio import data
from nnstudio.data import DatasetCancelled, DatasetError, load_dataset
from nnstudio.data.registry import DatasetEntry, register

EXPECTED = {
    "moons",
    "circles",
    "spiral",
    "xor",
    "blobs",
    "gaussians8",
    "seasonal-series",
    "sequence-reverse",
    "sequence-sort",
    "sequence-classify",
    "text-chars",
    "lending",
    "digits",
    "iris",
    "wine",
    "breast-cancer",
    "diabetes",
    "csv",
    "image-folder",
    "mnist",
    "fashion-mnist",
}


def test_every_loader_is_registered_with_title_description_and_group() -> None:
    entries = data.list_datasets()
    assert {e.name for e in entries} == EXPECTED
    for entry in entries:
        assert entry.title and entry.description and entry.group
        assert entry.all_options()[0].name == "seed"


def test_unknown_dataset_error_lists_the_known_ones() -> None:
    with pytest.raises(DatasetError) as caught:
        data.get_dataset("mnits")
    message = str(caught.value)
    assert "'mnits'" in message and "mnist" in message and "moons" in message


def test_registering_a_taken_name_is_refused() -> None:
    moons = data.get_dataset("moons")
    with pytest.raises(DatasetError, match="'moons' is already registered"):
        register(moons)


def test_an_option_may_not_shadow_a_common_parameter() -> None:
    entry = DatasetEntry(
        "x-test-clash",
        "X",
        "x",
        "classification",
        "table",
        loader=lambda request: None,  # type: ignore[arg-type,return-value]
        options=(data.Option("seed", int, 0),),
    )
    with pytest.raises(DatasetError, match="option names reused: seed"):
        register(entry)
    assert "x-test-clash" not in {e.name for e in data.list_datasets()}


def test_unknown_options_are_named() -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset("moons", n_sample=10, colour="red")
    message = str(caught.value)
    assert "'colour'" in message and "'n_sample'" in message and "n_samples" in message


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"n_samples": "100"}, "option 'n_samples' expects an integer, got '100'"),
        ({"n_samples": True}, "expects an integer"),
        ({"n_samples": 5}, "option 'n_samples' must be at least 20, got 5"),
        ({"noise": -0.1}, "option 'noise' must be at least 0.0"),
        ({"normalise": "yes"}, "expects true/false"),
    ],
)
def test_option_values_are_type_and_range_checked(options: dict, fragment: str) -> None:
    with pytest.raises(DatasetError, match=fragment.replace("(", r"\(")):
        load_dataset("moons", **options)


def test_choices_and_required_options_are_enforced() -> None:
    with pytest.raises(DatasetError, match="option 'mode' must be one of 'grey', 'rgb'"):
        load_dataset("image-folder", path="x", mode="colour")
    with pytest.raises(DatasetError, match="dataset 'csv' needs option 'path'"):
        load_dataset("csv")


def test_fractions_must_leave_training_data() -> None:
    with pytest.raises(DatasetError, match="val_fraction"):
        load_dataset("moons", val_fraction=1.5)
    with pytest.raises(DatasetError, match="leave examples to train on"):
        load_dataset("moons", val_fraction=0.5, test_fraction=0.5)


def test_progress_is_reported_and_ends_complete() -> None:
    calls: list[tuple[int, int, str]] = []
    load_dataset("iris", progress=lambda d, t, m: calls.append((d, t, m)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] == 1
    assert "iris" in calls[-1][2]


def test_progress_returning_false_cancels_with_dataset_cancelled() -> None:
    with pytest.raises(DatasetCancelled, match="generating spiral"):
        load_dataset("spiral", progress=lambda done, total, message: False)
    # None (a callback with no return) and True carry on
    assert len(load_dataset("spiral", progress=lambda d, t, m: None).train) > 0
    assert issubclass(DatasetCancelled, DatasetError)


def test_the_data_package_imports_no_qt() -> None:
    # A static scan (import-linter enforces the same in CI): fast, and not fooled by Qt
    # modules that other test packages may have imported into this process.
    package = Path(data.__file__).parent
    qt = ("PySide6", "pyqtgraph", "superqt", "qtpy")
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] in qt for n in names), f"{module.name} imports Qt"
