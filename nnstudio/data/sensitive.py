"""A sensitive column for the built-in tables (ethics stage): evaluate a model per group.

A person marks one feature column of a built-in table as *sensitive* (option
``sensitive``, a choice among the table's columns; "" for none).  Its group of every
example then travels per split in ``Split.extra[column]`` as int64 codes, with the
groups' names in ``DatasetInfo.sensitive`` — the same contract as a CSV file's
sensitive columns and the lending set's — so the fairness evaluation, re-weighting,
``nnstudio train`` and the model card work on it unchanged.  By default the column is
also taken out of the model's inputs (``input_shape`` shrinks by one); the option
``keep_in_inputs`` leaves it in.

How groups are formed from a column of numbers:

* a column with at most :data:`MAX_CATEGORIES` distinct values (diabetes' ``sex``: 1
  and 2) is categorical: one group per value, named ``sex=1``, ``sex=2``;
* any other column is split at its median *on the training split* into two groups,
  ``age < 50`` and ``age ≥ 50``.  Two groups keep every group large enough for stable
  rates on these small sets (iris has 30 test examples), and make the gaps between
  groups a single, readable difference.

The options are added to other modules' entries through
:func:`nnstudio.data.registry.extend`, so the loaders themselves know nothing of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from nnstudio.data.base import DatasetError, DatasetSplits, Split
from nnstudio.data.registry import DatasetEntry, Loader, LoadRequest, Option, extend

MAX_CATEGORIES = 6
OPTION_NAMES = ("sensitive", "keep_in_inputs")

# The feature columns of scikit-learn's tables, in their order (listed here so that a
# form can offer them without importing scikit-learn, which takes seconds; a test checks
# them against scikit-learn's own names).
COLUMNS: dict[str, tuple[str, ...]] = {
    "iris": ("sepal length (cm)", "sepal width (cm)", "petal length (cm)",
             "petal width (cm)"),
    "wine": ("alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium",
             "total_phenols", "flavanoids", "nonflavanoid_phenols", "proanthocyanins",
             "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline"),
    "breast-cancer": tuple(
        f"{name} {stat}" if stat == "error" else f"{stat} {name}"
        for stat in ("mean", "error", "worst")
        for name in ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                     "concavity", "concave points", "symmetry", "fractal dimension")),
    "diabetes": ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
}


def sensitive_options(columns: Sequence[str]) -> tuple[Option, Option]:
    """The two options a table with ``columns`` gets: which column, and whether the
    model still sees it."""
    return (
        Option("sensitive", str, "",
               "a column whose groups the model is evaluated by (fairness); numbers are "
               "split at the training median, a column of a few values by value "
               "(empty: none)", choices=("", *columns)),
        Option("keep_in_inputs", bool, False,
               "also give the sensitive column to the model as an input (default: it is "
               "kept out, and used only to evaluate)"),
    )


def _raw_column(splits: DatasetSplits, index: int, part: Split) -> np.ndarray:
    """The column's values in the data set's own units (undoing normalisation)."""
    values = part.x[:, index].double().numpy()
    if splits.norm_mean is not None and splits.norm_std is not None:
        mean = splits.norm_mean.reshape(-1)[index].item()
        std = splits.norm_std.reshape(-1)[index].item()
        values = values * std + mean
    # float32 round trips turn 2.0 into 1.9999999: a few decimals are plenty for groups
    return np.round(values, 5)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def group_rule(column: str, train: np.ndarray, everything: np.ndarray
               ) -> tuple[np.ndarray | None, float | None, tuple[str, ...]]:
    """(category values or None, median or None, group names) for one column.

    ``train`` holds the training split's values (the median comes from them alone),
    ``everything`` every split's values (the categories a column can take).
    """
    distinct = np.unique(everything)
    if len(distinct) <= MAX_CATEGORIES:
        return distinct, None, tuple(f"{column}={_fmt(v)}" for v in distinct)
    if len(train) == 0:
        raise DatasetError(f"sensitive column '{column}': no training examples to find "
                           "its median in")
    median = float(np.median(train))
    return None, median, (f"{column} < {_fmt(median)}", f"{column} ≥ {_fmt(median)}")


def _codes(values: np.ndarray, categories: np.ndarray | None, median: float | None
           ) -> np.ndarray:
    if categories is not None:
        return np.searchsorted(categories, values).astype(np.int64)
    return (values >= median).astype(np.int64)


def mark_sensitive(splits: DatasetSplits, column: str, *, keep_in_inputs: bool = False
                   ) -> DatasetSplits:
    """``splits`` with feature ``column`` marked sensitive (see the module docstring).

    The group codes go to each split's ``extra[column]`` and the group names to
    ``info.sensitive``; unless ``keep_in_inputs`` the column leaves the inputs (and the
    normalisation statistics).  A table without that column, a column already marked
    sensitive, or one that is the only input raise DatasetError naming it.
    """
    info = splits.info
    names = list(info.feature_names)
    if info.kind != "table" or len(info.input_shape) != 1:
        raise DatasetError(f"dataset '{info.name}': only a table's column can be sensitive")
    if column not in names:
        raise DatasetError(f"dataset '{info.name}': no column named '{column}' to mark "
                           f"sensitive; its columns are: {', '.join(names)}")
    if column in dict(info.sensitive):
        raise DatasetError(f"dataset '{info.name}': column '{column}' is sensitive already")
    if len(names) == 1 and not keep_in_inputs:
        raise DatasetError(f"dataset '{info.name}': '{column}' is the only input; keep it in "
                           "the inputs or choose another column")
    index = names.index(column)
    parts = (splits.train, splits.val, splits.test)
    raw = [_raw_column(splits, index, part) for part in parts]
    categories, median, groups = group_rule(column, raw[0], np.concatenate(raw))
    keep = [i for i in range(len(names)) if keep_in_inputs or i != index]

    def mark(part: Split, values: np.ndarray) -> Split:
        extra = {**part.extra, column: torch.from_numpy(_codes(values, categories, median))}
        x = part.x if keep_in_inputs else part.x[:, keep].contiguous()
        return Split(x=x, y=part.y, extra=extra)

    def inputs_only(stat: torch.Tensor | None) -> torch.Tensor | None:
        return stat if stat is None or keep_in_inputs else stat[keep].contiguous()

    how = "kept in the inputs" if keep_in_inputs else "kept out of the inputs"
    rule = (f"split at the training median {_fmt(median)}" if median is not None
            else "one group per value")
    new_info = dataclasses.replace(
        info,
        input_shape=(len(keep),),
        feature_names=tuple(names[i] for i in keep),
        sensitive=(*info.sensitive, (column, groups)),
        description=(f"{info.description} Sensitive column '{column}' ({rule}: "
                     f"{', '.join(groups)}), {how}.").strip(),
    )
    train, val, test = (mark(p, v) for p, v in zip(parts, raw))
    return dataclasses.replace(splits, info=new_info, train=train, val=val, test=test,
                               norm_mean=inputs_only(splits.norm_mean),
                               norm_std=inputs_only(splits.norm_std))


def with_sensitive_column(loader: Loader) -> Loader:
    """Wrap a table's loader so that it honours the two options of
    :func:`sensitive_options` (the loader itself never sees them)."""
    def load(request: LoadRequest) -> DatasetSplits:
        column = request.options.get("sensitive", "")
        keep = bool(request.options.get("keep_in_inputs", False))
        own = {k: v for k, v in request.options.items() if k not in OPTION_NAMES}
        splits = loader(dataclasses.replace(request, options=own))
        return mark_sensitive(splits, column, keep_in_inputs=keep) if column else splits

    return load


def _add_sensitive_options(columns: tuple[str, ...]):
    def change(entry: DatasetEntry) -> DatasetEntry:
        return dataclasses.replace(entry, options=entry.options + sensitive_options(columns),
                                   loader=with_sensitive_column(entry.loader))

    return change


for _name, _columns in COLUMNS.items():
    extend(_name, _add_sensitive_options(_columns))
