"""Small real data sets that ship inside scikit-learn: nothing to download.

digits is an 8x8 image set (CNN stage, and few-shot transfer with ``classes`` and
``per_class``); iris, wine and breast-cancer are tables for classification;
diabetes is a table for regression.
"""

from __future__ import annotations

import numpy as np

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits
from nnstudio.data.registry import DatasetEntry, Loader, LoadRequest, Option, register
from nnstudio.data.splits import build_splits

PER_CLASS = Option(
    "per_class",
    int,
    0,
    "keep at most this many training examples per class (0: all)",
    minimum=0,
)


def parse_classes(text: str, n_classes: int = 10) -> tuple[int, ...]:
    """'0-4' or '5,6,7,8,9' or '0-2,7' -> sorted label tuple; '' means all classes."""
    if not text.strip():
        return tuple(range(n_classes))
    chosen: list[int] = []
    for item in text.split(","):
        item = item.strip()
        bounds = item.split("-")
        if len(bounds) > 2 or not all(b.strip().isdigit() for b in bounds):
            raise DatasetError(f"classes: cannot read '{item}' (expected e.g. '0-4' or '5,6,7')")
        lo, hi = int(bounds[0]), int(bounds[-1])
        if lo > hi:
            raise DatasetError(f"classes: range '{item}' runs backwards")
        chosen.extend(range(lo, hi + 1))
    bad = sorted({c for c in chosen if c >= n_classes})
    if bad:
        raise DatasetError(f"classes: {bad} not in 0..{n_classes - 1}")
    if len(set(chosen)) != len(chosen):
        raise DatasetError(f"classes: '{text}' names a class twice")
    if len(chosen) < 2:
        raise DatasetError(f"classes: '{text}' keeps {len(chosen)} class; a classifier needs two")
    return tuple(sorted(chosen))


def select_classes(
    x: np.ndarray, y: np.ndarray, keep: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the labels in ``keep``, labels remapped to 0..len(keep)-1 in that order."""
    remap = np.full(int(y.max()) + 1, -1, dtype=np.int64)
    remap[list(keep)] = np.arange(len(keep))
    rows = remap[y] >= 0
    return x[rows], remap[y[rows]]


def _load_digits(request: LoadRequest) -> DatasetSplits:
    from sklearn import datasets as skdata  # here: importing it takes seconds

    keep = parse_classes(request.options["classes"])
    bunch = skdata.load_digits()
    # pixel values are 0..16; scale to [0, 1] first so un-normalised images are usable
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    x, y = select_classes(x, bunch.target.astype(np.int64), keep)
    info = DatasetInfo(
        name=request.name,
        task="classification",
        input_shape=(1, 8, 8),
        classes=tuple(str(c) for c in keep),
        description=_DESCRIPTIONS["digits"],
        kind="image",
    )
    return build_splits(
        info,
        x,
        y,
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        normalise=request.normalise,
        per_class=request.options["per_class"],
    )


# loader names in sklearn.datasets (imported when a table is loaded: it takes seconds)
_TABLES = {
    "iris": ("load_iris", {}),
    "wine": ("load_wine", {}),
    "breast-cancer": ("load_breast_cancer", {}),
    # unscaled: nnstudio normalises with training statistics itself
    "diabetes": ("load_diabetes", {"scaled": False}),
}


def _load_table(request: LoadRequest) -> DatasetSplits:
    from sklearn import datasets as skdata

    load, kwargs = _TABLES[request.name]
    bunch = getattr(skdata, load)(**kwargs)
    x = np.asarray(bunch.data, dtype=np.float32)
    regression = request.name == "diabetes"
    if regression:
        y = np.asarray(bunch.target, dtype=np.float32).reshape(-1, 1)
        classes: tuple[str, ...] = ()
    else:
        y = np.asarray(bunch.target, dtype=np.int64)
        classes = tuple(str(name) for name in bunch.target_names)
    info = DatasetInfo(
        name=request.name,
        task="regression" if regression else "classification",
        input_shape=(x.shape[1],),
        classes=classes,
        n_targets=1,
        feature_names=tuple(str(f) for f in bunch.feature_names),
        description=_DESCRIPTIONS[request.name],
        kind="table",
    )
    return build_splits(
        info,
        x,
        y,
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        normalise=request.normalise,
    )


def _with_progress(loader: Loader) -> Loader:
    # Built-in sets load in milliseconds; report start and end so a UI bar still moves.
    def load(request: LoadRequest) -> DatasetSplits:
        request.progress(0, 1, f"loading {request.name}")
        splits = loader(request)
        request.progress(1, 1, f"loaded {request.name}")
        return splits

    return load


_DESCRIPTIONS = {
    "digits": "1,797 handwritten digits, 8x8 pixels: a CNN in seconds.",
    "iris": "150 iris flowers, 4 measurements, 3 species.",
    "wine": "178 wines, 13 chemical measurements, 3 cultivars.",
    "breast-cancer": "569 tumour biopsies, 30 features, malignant or benign.",
    "diabetes": "442 patients, 10 measurements; predict disease progression after a year.",
}

register(
    DatasetEntry(
        name="digits",
        title="Digits (8x8)",
        description=_DESCRIPTIONS["digits"],
        task="classification",
        kind="image",
        loader=_with_progress(_load_digits),
        options=(
            Option("classes", str, "", "digits to keep, e.g. '0-4' or '5,6,7,8,9' (empty: all)"),
            PER_CLASS,
        ),
        group="scikit-learn",
    )
)

for _name, _title in (
    ("iris", "Iris"),
    ("wine", "Wine"),
    ("breast-cancer", "Breast cancer"),
    ("diabetes", "Diabetes"),
):
    register(
        DatasetEntry(
            name=_name,
            title=_title,
            description=_DESCRIPTIONS[_name],
            task="regression" if _name == "diabetes" else "classification",
            kind="table",
            loader=_with_progress(_load_table),
            group="scikit-learn",
        )
    )
