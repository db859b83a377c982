"""A time series cut into windows for forecasting (RNN stage).

The series is generated (several seasonal cycles plus noise and a trend), or, with
the ``path`` option, read from one numeric column of the person's CSV file: rows
in file order are the time steps (``column`` names it; empty takes the last numeric
column).  Gaps in that column are filled by linear interpolation between their
neighbours; missing values before the first or after the last number are dropped.

x is a window of past values (window, 1); y the next ``horizon`` values.  The split
is chronological, never shuffled: the model is judged on the future it has not
seen.  Each Split.extra also holds what a forecast plot needs:

- ``series``: the full series (L,), in the same units as x and y;
- ``split_start``, ``split_end``: 0-d int64, the part of the series this split predicts;
- ``target_index``: (N,) int64, where in the series each example's first target sits.

``series``, ``split_start`` and ``split_end`` are not one row per example: batch only
the extras whose first dimension equals len(split).
"""

from __future__ import annotations

import numpy as np
import torch

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits, Split
from nnstudio.data.csv_data import numeric_values
from nnstudio.data.csv_table import read_table
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import fingerprint


def parse_periods(text: str) -> tuple[float, ...]:
    """'24,168' -> (24.0, 168.0); each period must be a number >= 2."""
    periods = []
    for item in text.split(","):
        item = item.strip()
        try:
            value = float(item)
        except ValueError:
            raise DatasetError(
                f"periods: '{item}' is not a number (expected e.g. '24,168')"
            ) from None
        if value < 2:
            raise DatasetError(f"periods: each period must be at least 2 steps, got {item}")
        periods.append(value)
    return tuple(periods)


def make_seasonal_series(
    length: int, periods: tuple[float, ...], noise: float, trend: float, seed: int
) -> np.ndarray:
    """Sum of sines (the k-th with amplitude 1/(k+1), random phase) + trend*t + noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)
    series = trend * t
    for k, period in enumerate(periods):
        phase = rng.uniform(0, 2 * np.pi)
        series = series + np.sin(2 * np.pi * t / period + phase) / (k + 1)
    return (series + rng.normal(0.0, noise, length)).astype(np.float32)


def csv_series(path: str, column: str) -> tuple[np.ndarray, str]:
    """One numeric column of the CSV at ``path`` as a float32 series, and what it is.

    ``column`` is a header name; empty picks the last column that holds numbers.  Gaps
    (empty, NA, ...) between numbers are linearly interpolated; leading and trailing
    ones dropped.  DatasetError names the file and the column when none fits.
    """
    table = read_table(path)
    if column:
        if column not in table.header:
            raise DatasetError(f"{table.name} has no column '{column}'; its columns are: "
                               f"{', '.join(table.header)}")
        index = table.header.index(column)
        values = numeric_values(table, index)
        if values is None:
            raise DatasetError(f"{table.name}: column '{column}' holds text, not numbers; "
                               "a series needs a numeric column")
    else:
        values = None
        for index in reversed(range(len(table.header))):
            values = numeric_values(table, index)
            if values is not None and not np.isnan(values).all():
                break
            values = None
        if values is None:
            raise DatasetError(f"{table.name} has no numeric column to use as a series")
    name = table.header[index]
    present = np.flatnonzero(~np.isnan(values))
    if len(present) == 0:
        raise DatasetError(f"{table.name}: column '{name}' has no numbers")
    values = values[present[0]: present[-1] + 1]
    gaps = np.isnan(values)
    if gaps.any():
        t = np.arange(len(values))
        values[gaps] = np.interp(t[gaps], t[~gaps], values[~gaps])
    n_gaps = int(gaps.sum())
    filled = f", {n_gaps} gap{'s' if n_gaps > 1 else ''} interpolated" if n_gaps else ""
    return values.astype(np.float32), f"column '{name}' of {table.name} ({len(values)} rows{filled})"


def _windows(series: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(window, len(series) - horizon + 1)  # index of the first target
    x = np.stack([series[i - window : i] for i in starts])
    y = np.stack([series[i : i + horizon] for i in starts])
    return x, y


def _load_series(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    window, horizon = opts["window"], opts["horizon"]
    if opts["path"]:
        request.progress(0, 1, "reading the series")
        raw, what = csv_series(opts["path"], opts["column"])
        length = len(raw)
        if length < window + horizon + 3:
            raise DatasetError(f"{what} is too short for window {window} + horizon {horizon}; "
                               "use a smaller window")
        about = f"The series in {what}"
    else:
        length = opts["length"]
        if length < window + horizon + 3:
            raise DatasetError(f"length {length} is too short for window {window} + horizon {horizon}")
        request.progress(0, 1, "generating seasonal series")
        raw = make_seasonal_series(
            length, parse_periods(opts["periods"]), opts["noise"], opts["trend"], request.seed
        )
        about = f"A series of {length} steps with seasonal periods {opts['periods']}"
    x_raw, y_raw = _windows(raw, window, horizon)
    starts = np.arange(window, length - horizon + 1)
    cut1 = round(length * (1 - request.val_fraction - request.test_fraction))
    cut2 = round(length * (1 - request.test_fraction))
    bounds = {"train": (0, cut1), "val": (cut1, cut2), "test": (cut2, length)}

    mean = std = None
    series = raw
    if request.normalise:
        # Statistics of the training stretch only; targets share the inputs' units.
        mean = np.float32(raw[:cut1].mean())
        std = np.float32(max(float(raw[:cut1].std()), 1e-8))
        series = (raw - mean) / std
    x_all, y_all = _windows(series, window, horizon)

    splits: dict[str, Split] = {}
    for name, (lo, hi) in bounds.items():
        # A window belongs to the split its whole target lies in; windows whose target
        # straddles a boundary are dropped so no target is in two splits.
        keep = (starts >= lo) & (starts + horizon <= hi)
        if name == "train" and not keep.any():
            raise DatasetError(
                f"no training windows: the training stretch ({cut1} steps) is shorter than "
                f"window {window} + horizon {horizon}; use a longer series or smaller fractions"
            )
        splits[name] = Split(
            x=torch.from_numpy(np.ascontiguousarray(x_all[keep][:, :, None])),
            y=torch.from_numpy(np.ascontiguousarray(y_all[keep])),
            extra={
                "series": torch.from_numpy(series.copy()),
                "split_start": torch.tensor(lo, dtype=torch.int64),
                "split_end": torch.tensor(hi, dtype=torch.int64),
                "target_index": torch.from_numpy(starts[keep].astype(np.int64)),
            },
        )
    info = DatasetInfo(
        name=request.name,
        task="regression",
        input_shape=(window, 1),
        n_targets=horizon,
        feature_names=("value",),
        description=f"{about}; predict the next {horizon} from the last {window}.",
        kind="sequence",
    )
    stat = None if mean is None else torch.tensor([mean], dtype=torch.float32)
    spread = None if std is None else torch.tensor([std], dtype=torch.float32)
    request.progress(1, 1, "series ready")
    return DatasetSplits(
        info=info,
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        norm_mean=stat,
        norm_std=spread,
        fingerprint=fingerprint(x_raw, y_raw),
        target_mean=stat,
        target_std=spread,
    )


register(
    DatasetEntry(
        name="seasonal-series",
        title="Seasonal time series",
        description="Daily and weekly cycles plus noise, or a column of your CSV: forecast "
        "the next steps with an RNN.",
        task="regression",
        kind="sequence",
        loader=_load_series,
        options=(
            Option("length", int, 1200, "number of time steps", minimum=50, maximum=1_000_000),
            Option("window", int, 48, "past values the model sees", minimum=2, maximum=10_000),
            Option("horizon", int, 1, "future values to predict", minimum=1, maximum=1000),
            Option("periods", str, "24,168", "seasonal periods in steps, comma-separated"),
            Option(
                "noise", float, 0.1, "standard deviation of the noise", minimum=0.0, maximum=10.0
            ),
            Option("trend", float, 0.0, "added slope per step", minimum=-1.0, maximum=1.0),
            Option("path", str, "", "a CSV file of yours whose rows are the time steps (empty: "
                   "the generated series; length, periods, noise and trend then do not apply)",
                   widget="file"),
            Option("column", str, "", "the CSV column to forecast (empty: the last numeric one)"),
        ),
        group="Generated",
    )
)
