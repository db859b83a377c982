"""What a dataset looks like, as plain data for the UI to draw (no Qt here).

:func:`preview` returns a dict of numbers, strings and numpy arrays; values are
shown in original units (normalisation undone) because that is what a person
recognises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from nnstudio.data.base import DatasetSplits, Split

# A scatter plot needs many points to show a shape; more than this only slows drawing.
MAX_POINTS = 2000


def _raw_inputs(splits: DatasetSplits, x: torch.Tensor) -> np.ndarray:
    values = x.detach().cpu().numpy().astype(np.float32)
    if splits.norm_mean is not None and splits.norm_std is not None:
        values = values * splits.norm_std.numpy() + splits.norm_mean.numpy()
    return values


def _raw_targets(splits: DatasetSplits, y: torch.Tensor) -> np.ndarray:
    values = y.detach().cpu().numpy()
    if splits.target_mean is not None and splits.target_std is not None:
        values = values * splits.target_std.numpy() + splits.target_mean.numpy()
    return values


def _spread_over_classes(y: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` indices taking classes in turn, so every class shows up."""
    queues = [list(np.flatnonzero(y == c)) for c in np.unique(y)]
    picked: list[int] = []
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(int(queue.pop(0)))
    return np.asarray(picked, dtype=np.int64)


def _class_counts(splits: DatasetSplits) -> dict[str, list[int]]:
    k = splits.info.n_classes
    parts = {"train": splits.train, "val": splits.val, "test": splits.test}
    return {
        name: np.bincount(part.y.numpy().reshape(-1), minlength=k).tolist()
        for name, part in parts.items()
        if part.y.dtype == torch.int64 and len(part)
    }


def _label(splits: DatasetSplits, value: Any) -> str:
    classes = splits.info.classes
    if classes and np.ndim(value) == 0 and 0 <= int(value) < len(classes):
        return classes[int(value)]
    return ", ".join(f"{v:.4g}" for v in np.atleast_1d(value))


def _images(splits: DatasetSplits, train: Split, n: int) -> dict[str, Any]:
    index = _spread_over_classes(train.y.numpy(), n)
    pixels = np.clip(_raw_inputs(splits, train.x[index]), 0.0, 1.0)
    # (C, H, W) -> (H, W) for grey, (H, W, C) for colour: how image widgets want them
    images = [p[0] if p.shape[0] == 1 else p.transpose(1, 2, 0) for p in pixels]
    return {"images": images, "labels": [_label(splits, train.y[i].item()) for i in index]}


def _table(splits: DatasetSplits, train: Split, n: int) -> dict[str, Any]:
    x = _raw_inputs(splits, train.x[:n])
    y = _raw_targets(splits, train.y[:n])
    names = list(splits.info.feature_names) or [f"x{i + 1}" for i in range(x.shape[1])]
    rows = [[float(v) for v in row] + [_label(splits, y[i])] for i, row in enumerate(x)]
    return {"header": names + ["target"], "rows": rows}


def _sequence(splits: DatasetSplits, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"windows": _raw_inputs(splits, splits.train.x[:n])[..., 0]}
    extra = splits.train.extra
    if "series" in extra:
        series = extra["series"].numpy()
        if splits.norm_mean is not None and splits.norm_std is not None:
            series = series * splits.norm_std.numpy() + splits.norm_mean.numpy()
        out["series"] = series
        out["split_points"] = [
            int(part.extra["split_start"])
            for part in (splits.val, splits.test)
            if "split_start" in part.extra
        ]
    return out


def preview(splits: DatasetSplits, n: int = 16) -> dict[str, Any]:
    """Describe ``splits`` for a preview panel.

    Always: kind, name, task, description, input_shape, classes, sizes (examples per
    split) and, for labelled sets, class_counts per split.  Then by kind --
    image: ``images`` (up to n arrays, (H, W) or (H, W, 3) in [0, 1]) and ``labels``;
    points2d: ``points`` (m, 2) and ``labels`` (m,) for up to 2000 training points;
    table: ``header`` and ``rows`` (n rows of feature values plus the target);
    sequence: ``series`` (the whole series), ``split_points`` and ``windows`` (n, T).
    """
    info = splits.info
    out: dict[str, Any] = {
        "kind": info.kind,
        "name": info.name,
        "task": info.task,
        "description": info.description,
        "input_shape": info.input_shape,
        "classes": info.classes,
        "sizes": {"train": len(splits.train), "val": len(splits.val), "test": len(splits.test)},
        "class_counts": _class_counts(splits) if info.classes else {},
    }
    train = splits.train
    if info.kind == "image":
        out.update(_images(splits, train, n))
    elif info.kind == "points2d":
        m = min(len(train), MAX_POINTS)
        out["points"] = _raw_inputs(splits, train.x[:m])
        out["labels"] = train.y[:m].numpy()
    elif info.kind == "sequence":
        out.update(_sequence(splits, n))
    else:
        out.update(_table(splits, train, n))
    return out
