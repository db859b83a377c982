"""A person's own CSV file: one row per example, a header row, one target column.

Numeric columns are standardised and their missing values filled with the training
mean; text columns become one-hot features whose categories are learnt from the
training rows (a value never seen in training encodes as all zeros; a missing value
is its own category, "missing").  Sensitive columns are stored per split in
Split.extra[column] as int64 codes (ethics stage) and kept out of the inputs, unless
the option ``keep_in_inputs`` says otherwise.

Errors name the file, the line and the column.  Only the csv module and numpy.
``csv_head`` (from csv_table) previews a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits, Task
from nnstudio.data.csv_table import Table, csv_head, is_missing, read_table
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import fingerprint, finish_splits, split_indices

__all__ = ["csv_head", "load_csv", "read_table"]

MISSING_CATEGORY = "missing"
# auto task: an integer target with at most this many distinct values is a class label
MAX_AUTO_CLASSES = 20


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def numeric_values(table: Table, index: int) -> np.ndarray | None:
    """The column as float64 with NaN for missing values, or None if it is text.

    A column that is almost all numbers (fewer than 10% text values) is taken to hold a
    typo, and raises DatasetError naming the line, rather than silently turning into
    one-hot categories.
    """
    values = np.full(len(table.rows), np.nan)
    bad: list[int] = []
    present = 0
    for i, cell in enumerate(table.column(index)):
        if is_missing(cell):
            continue
        present += 1
        number = _number(cell)
        if number is None:
            bad.append(i)
        else:
            values[i] = number
    if not bad:
        return values
    if len(bad) < 0.1 * present:
        i = bad[0]
        raise DatasetError(
            f"{table.name} line {table.lines[i]}: column '{table.header[index]}' expected a "
            f"number, got '{table.rows[i][index].strip()}' ({present - len(bad)} of {present} "
            f"values are numbers; fix it or leave the cell empty for a missing value)"
        )
    return None


def _category(cell: str) -> str:
    return MISSING_CATEGORY if is_missing(cell) else cell


def _class_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def encode_target(table: Table, index: int, task: str) -> tuple[np.ndarray, tuple[str, ...], Task]:
    """Encode the target column of the rows that have one.

    Returns (y, class names, task): int64 codes for classification, float32 for
    regression.  ``task`` "auto" picks classification for text or for integers with at
    most 20 distinct values.
    """
    name, file = table.header[index], table.name
    numbers = numeric_values(table, index)
    if task == "auto":
        task = "classification"
        if numbers is not None:
            distinct = np.unique(numbers)
            integral = bool(np.all(np.mod(distinct, 1) == 0))
            if not integral or len(distinct) > MAX_AUTO_CLASSES:
                task = "regression"
    if task == "regression":
        if numbers is None:
            cells = table.column(index)
            i = next(i for i, c in enumerate(cells) if _number(c) is None)
            raise DatasetError(
                f"{file} line {table.lines[i]}: column '{name}' holds text ('{cells[i]}'); "
                f"it cannot be a regression target"
            )
        return numbers.astype(np.float32), (), "regression"
    if numbers is not None:
        distinct = np.unique(numbers)
        y = np.searchsorted(distinct, numbers).astype(np.int64)
        classes = tuple(_class_name(v) for v in distinct)
    else:
        cells = table.column(index)
        classes = tuple(sorted(set(cells)))
        lookup = {value: code for code, value in enumerate(classes)}
        y = np.array([lookup[c] for c in cells], dtype=np.int64)
    if len(classes) < 2:
        raise DatasetError(
            f"{file}: target column '{name}' has a single value ('{classes[0]}'); "
            f"a classifier needs at least two classes"
        )
    return y, classes, "classification"


def _column_index(table: Table, name: str, role: str) -> int:
    if name not in table.header:
        raise DatasetError(
            f"{table.name}: no column named '{name}' ({role}); columns are: "
            + ", ".join(table.header)
        )
    return table.header.index(name)


@dataclass
class Features:
    """Inputs encoded with what the training rows taught: matrix, names, notes."""

    x: np.ndarray
    names: list[str]
    one_hot: list[bool]
    notes: list[str]
    n_numeric: int = 0
    n_categorical: int = 0


def encode_features(
    table: Table, columns: list[int], train: np.ndarray, max_categories: int
) -> Features:
    """Encode ``columns`` for every row, learning means and categories from ``train``."""
    blocks: list[np.ndarray] = []
    out = Features(np.empty(0), [], [], [])
    for index in columns:
        name = table.header[index]
        cells = table.column(index)
        if all(is_missing(c) for c in cells):
            out.notes.append(f"left out '{name}': every value is missing")
            continue
        numbers = numeric_values(table, index)
        if numbers is not None:
            seen = numbers[train][~np.isnan(numbers[train])]
            fill = float(seen.mean()) if seen.size else 0.0
            blocks.append(np.where(np.isnan(numbers), fill, numbers)[:, None])
            out.names.append(name)
            out.one_hot.append(False)
            out.n_numeric += 1
            continue
        values = [_category(c) for c in cells]
        categories = sorted({values[i] for i in train})
        if len(categories) > max_categories:
            out.notes.append(
                f"left out '{name}': {len(categories)} distinct text values "
                f"(more than max_categories={max_categories})"
            )
            continue
        lookup = {value: code for code, value in enumerate(categories)}
        block = np.zeros((len(values), len(categories)))
        for row, value in enumerate(values):
            if value in lookup:  # unseen in training: all zeros
                block[row, lookup[value]] = 1.0
        blocks.append(block)
        out.names.extend(f"{name}={value}" for value in categories)
        out.one_hot.extend([True] * len(categories))
        out.n_categorical += 1
    if not blocks:
        raise DatasetError(f"{table.name}: no input columns left besides the target")
    out.x = np.concatenate(blocks, axis=1).astype(np.float32)
    return out


def encode_sensitive(table: Table, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """int64 codes of a sensitive column and the value each code stands for."""
    values = [_category(c) for c in table.column(index)]
    categories = tuple(sorted(set(values)))
    lookup = {value: code for code, value in enumerate(categories)}
    return np.array([lookup[v] for v in values], dtype=np.int64), categories


def _drop_missing_target(table: Table, index: int) -> int:
    keep = [i for i, row in enumerate(table.rows) if not is_missing(row[index])]
    dropped = len(table.rows) - len(keep)
    table.rows = [table.rows[i] for i in keep]
    table.lines = [table.lines[i] for i in keep]
    if not table.rows:
        raise DatasetError(f"{table.name}: every row is missing the target '{table.header[index]}'")
    return dropped


def load_csv(request: LoadRequest) -> DatasetSplits:
    """Loader for the 'csv' dataset (see the module docstring)."""
    opts = request.options
    path = Path(opts["path"])
    request.progress(0, 3, f"reading {path.name}")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the file ({error.strerror})") from None
    table = read_table(path, raw)
    target = _column_index(table, opts["target"] or table.header[-1], "the target")
    names = dict.fromkeys(n.strip() for n in opts["sensitive"].split(",") if n.strip())
    sensitive = [_column_index(table, name, "listed as sensitive") for name in names]
    if target in sensitive:
        raise DatasetError(
            f"{table.name}: '{table.header[target]}' is the target; it cannot also be sensitive"
        )
    kept_out = [] if opts["keep_in_inputs"] else sensitive
    inputs = [i for i in range(len(table.header)) if i != target and i not in kept_out]
    if not inputs:
        raise DatasetError(f"{table.name}: no input columns left besides the target")
    dropped = _drop_missing_target(table, target)
    y, classes, task = encode_target(table, target, opts["task"])
    request.progress(1, 3, f"encoding {path.name}")
    parts = split_indices(
        len(y),
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        labels=y if task == "classification" else None,
    )
    features = encode_features(table, inputs, parts[0], opts["max_categories"])
    extra, groups = {}, []
    for index in sensitive:
        codes, values = encode_sensitive(table, index)
        extra[table.header[index]] = codes
        groups.append((table.header[index], values))
    notes = list(features.notes)
    if dropped:
        notes.append(f"dropped {dropped} row(s) with no target")
    description = (
        f"{table.name}: {len(y)} rows; {features.n_numeric} numeric and "
        f"{features.n_categorical} text columns -> {features.x.shape[1]} features; "
        f"target '{table.header[target]}' ({task})" + "".join(f"; {n}" for n in notes)
    )
    info = DatasetInfo(
        name=request.name,
        task=task,
        input_shape=(features.x.shape[1],),
        classes=classes,
        n_targets=1,
        feature_names=tuple(features.names),
        description=description,
        kind="table",
        sensitive=tuple(groups),
    )
    request.progress(2, 3, f"splitting {path.name}")
    splits = finish_splits(
        info,
        features.x,
        y,
        parts,
        normalise=request.normalise,
        digest=fingerprint(np.frombuffer(raw, dtype=np.uint8)),
        fixed=np.asarray(features.one_hot),
        extra=extra,
    )
    request.progress(3, 3, f"loaded {path.name}")
    return splits


register(
    DatasetEntry(
        name="csv",
        title="CSV file",
        description="Your own table: one row per example, a header, one target column.",
        task="classification",
        kind="table",
        loader=load_csv,
        options=(
            Option("path", str, "", "the CSV file", widget="file", required=True),
            Option("target", str, "", "the column to predict (empty: the last column)"),
            Option(
                "task",
                str,
                "auto",
                "classification, regression, or auto-detect",
                choices=("auto", "classification", "regression"),
            ),
            Option(
                "sensitive",
                str,
                "",
                "comma-separated columns evaluated per group (fairness); kept out of the "
                "inputs unless 'keep in inputs'",
            ),
            Option(
                "keep_in_inputs",
                bool,
                False,
                "also give the sensitive columns to the model as inputs (default: they are "
                "kept out, and used only to evaluate)",
            ),
            Option(
                "max_categories",
                int,
                50,
                "text columns with more distinct values are left out",
                minimum=2,
            ),
        ),
        group="Your files",
    )
)
