"""Seeded splits, training-only normalisation and fingerprints, shared by all loaders.

The order of work matters for honest evaluation: split first, then compute every
statistic (mean, std, categories) on the training split alone, then apply it to
all three splits.  Loaders hand raw numpy arrays to :func:`build_splits` (or, when
they must learn their own encodings from the training rows, call
:func:`split_indices` and :func:`finish_splits` themselves).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits, Split

# A feature whose training std is below this is constant: dividing by it would blow up
# (digit border pixels are always 0), so it is left unscaled.
_MIN_STD = 1e-8


def fingerprint(*arrays: np.ndarray) -> str:
    """sha256 hex digest over each array's dtype, shape and bytes, in order."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _take_count(n: int, fraction: float) -> int:
    # A non-zero fraction always takes at least one example so the split exists.
    return 0 if fraction <= 0 else max(1, round(n * fraction))


def _can_stratify(labels: np.ndarray, n_taken: int) -> bool:
    # sklearn needs two members per class and room for every class on both sides;
    # tiny or very unbalanced sets fall back to a plain shuffled split.
    _, counts = np.unique(labels, return_counts=True)
    n_classes = len(counts)
    return counts.min() >= 2 and n_taken >= n_classes and len(labels) - n_taken >= n_classes


def _cut(
    indices: np.ndarray, n_taken: int, seed: int, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (kept, taken) with ``n_taken`` taken, seeded."""
    if n_taken == 0:
        rng = np.random.default_rng(seed)
        return rng.permutation(indices), indices[:0]
    # imported here: scikit-learn takes seconds to import, and the window must not wait
    from sklearn.model_selection import train_test_split

    stratify = None
    if labels is not None and _can_stratify(labels[indices], n_taken):
        stratify = labels[indices]
    kept, taken = train_test_split(
        indices, test_size=n_taken, random_state=seed, shuffle=True, stratify=stratify
    )
    return np.asarray(kept), np.asarray(taken)


def split_indices(
    n: int,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` into (train, val, test) index arrays, seeded by ``seed``.

    Fractions are of ``n``.  With ``labels`` (classification) the split is stratified
    so each part keeps the class proportions, when the class counts allow it.
    """
    n_test = _take_count(n, test_fraction)
    n_val = _take_count(n, val_fraction)
    if n - n_test - n_val < 1:
        raise DatasetError(
            f"{n} examples are too few to hold out {n_val} for validation and "
            f"{n_test} for testing and still train"
        )
    everything = np.arange(n)
    rest, test = _cut(everything, n_test, seed, labels)
    train, val = _cut(rest, n_val, seed + 1, labels)
    return train, val, test


def limit_per_class(train: np.ndarray, labels: np.ndarray, per_class: int) -> np.ndarray:
    """Keep at most ``per_class`` of the ``train`` indices per label, in their order.

    The training order is already a seeded shuffle, so the first ones are a random pick.
    """
    counts: dict[int, int] = {}
    kept = []
    for index in train:
        label = int(labels[index])
        if counts.get(label, 0) < per_class:
            counts[label] = counts.get(label, 0) + 1
            kept.append(index)
    return np.asarray(kept, dtype=train.dtype)


def norm_stats(
    x_train: np.ndarray, kind: str, fixed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the training inputs, shaped to broadcast over one example.

    Images (N, C, H, W) get one value per channel, shape (C, 1, 1); sequences
    (N, T, C) per channel, shape (C,); anything else per feature, shape x.shape[1:].
    ``fixed`` is a boolean mask of features left as they are (mean 0, std 1), such as
    one-hot columns.
    """
    x64 = x_train.astype(np.float64, copy=False)
    if kind == "image" and x64.ndim == 4:
        mean = x64.mean(axis=(0, 2, 3)).reshape(-1, 1, 1)
        std = x64.std(axis=(0, 2, 3)).reshape(-1, 1, 1)
    elif kind == "sequence" and x64.ndim >= 3:
        axes = tuple(range(x64.ndim - 1))
        mean, std = x64.mean(axis=axes), x64.std(axis=axes)
    else:
        mean, std = x64.mean(axis=0), x64.std(axis=0)
    std = np.where(std < _MIN_STD, 1.0, std)
    if fixed is not None:
        mean = np.where(fixed, 0.0, mean)
        std = np.where(fixed, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def _target_tensor(y: np.ndarray, task: str) -> torch.Tensor:
    if task == "classification" or y.dtype.kind in "iu":
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    y = y.astype(np.float32, copy=False)
    return torch.from_numpy(np.ascontiguousarray(y[:, None] if y.ndim == 1 else y))


def finish_splits(
    info: DatasetInfo,
    x: np.ndarray,
    y: np.ndarray,
    parts: Sequence[np.ndarray],
    *,
    normalise: bool,
    digest: str,
    fixed: np.ndarray | None = None,
    extra: Mapping[str, np.ndarray] | None = None,
) -> DatasetSplits:
    """Turn full arrays and (train, val, test) index arrays into a DatasetSplits.

    Statistics come from the training rows only.  Inputs become float32 tensors;
    classification targets int64 (N,), regression targets float32 (N, n_targets),
    standardised when ``normalise``.  ``extra`` arrays (one row per example) are split
    alongside into Split.extra.  ``digest`` is the fingerprint of the raw data.
    """
    train, val, test = parts
    x = x.astype(np.float32, copy=False)
    mean = std = target_mean = target_std = None
    if normalise:
        mean, std = norm_stats(x[train], info.kind, fixed)
        x = (x - mean) / std
        if info.task == "regression":
            y2 = y.astype(np.float64)
            y2 = y2[:, None] if y2.ndim == 1 else y2
            target_mean = y2[train].mean(axis=0)
            target_std = np.where(y2[train].std(axis=0) < _MIN_STD, 1.0, y2[train].std(axis=0))
            y = ((y2 - target_mean) / target_std).astype(np.float32)

    def make(index: np.ndarray) -> Split:
        extras = {
            key: torch.from_numpy(np.ascontiguousarray(values[index]))
            for key, values in (extra or {}).items()
        }
        return Split(
            x=torch.from_numpy(np.ascontiguousarray(x[index])),
            y=_target_tensor(y[index], info.task),
            extra=extras,
        )

    def tensor(values: np.ndarray | None) -> torch.Tensor | None:
        return None if values is None else torch.from_numpy(np.asarray(values, np.float32))

    return DatasetSplits(
        info=info,
        train=make(train),
        val=make(val),
        test=make(test),
        norm_mean=tensor(mean),
        norm_std=tensor(std),
        fingerprint=digest,
        target_mean=tensor(target_mean),
        target_std=tensor(target_std),
    )


def build_splits(
    info: DatasetInfo,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    normalise: bool,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    per_class: int = 0,
) -> DatasetSplits:
    """Split raw arrays ``x`` (N, *input_shape) and ``y`` (N,) or (N, k) and normalise.

    Classification splits are stratified.  ``test`` is a given test set (x, y): then
    ``test_fraction`` is ignored and validation comes out of ``x``.  ``per_class`` > 0
    keeps at most that many training examples per class (few-shot learning).  The
    fingerprint covers the raw arrays, given test set included.
    """
    labels = y if info.task == "classification" else None
    if test is None:
        digest = fingerprint(x, y)
        parts = split_indices(
            len(x),
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            labels=labels,
        )
    else:
        x_test, y_test = test
        digest = fingerprint(x, y, x_test, y_test)
        train, val, _ = split_indices(
            len(x), seed=seed, val_fraction=val_fraction, test_fraction=0.0, labels=labels
        )
        parts = (train, val, np.arange(len(x), len(x) + len(x_test)))
        x = np.concatenate([x, x_test])
        y = np.concatenate([y, y_test])
    if per_class > 0 and labels is not None:
        parts = (limit_per_class(parts[0], y, per_class), parts[1], parts[2])
    return finish_splits(info, x, y, parts, normalise=normalise, digest=digest)
