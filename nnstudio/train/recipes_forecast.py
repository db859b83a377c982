"""The forecasting recipe: from a window of past values, predict the next ones.

Examples are windows x [B, window, features] (``seasonal-series``: one feature, the
series itself) and targets the next ``horizon`` values y [B, horizon], in the same
units as the inputs.  Besides regression's mse, mae and r2, evaluation compares the
model with the *seasonal naive* forecast — "the value one season ago", the baseline
every forecaster has to beat (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, §5.2) — as ``seasonal_naive_mse`` and ``naive_ratio`` = naive MSE / model
MSE.  The season is the strongest autocorrelation peak of the training windows
(:func:`estimate_season`); on ``seasonal-series`` with periods 24 and 168 and a
48-step window that is 24.  :func:`rollout` gives the forecast over a split to draw
over the truth; :meth:`ForecastRecipe.preview` draws it live (one step ahead over a
stretch of the validation series, with the seasonal naive forecast dashed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.errors import TrainingError
from nnstudio.train.metrics import mse
from nnstudio.train.preview import Preview, to_numpy
from nnstudio.train.recipes import Evaluation, Mode, RegressionRecipe, register_recipe, show_shape
from nnstudio.train.requirements import one_graph


def _series_values(x: torch.Tensor) -> torch.Tensor:
    """The target feature of each window: [N, W] from [N, W, F] (feature 0) or [N, W]."""
    return x[..., 0] if x.dim() == 3 else x


def estimate_season(windows: torch.Tensor) -> int:
    """The lag (2 .. window-2 steps) of the highest autocorrelation peak of ``windows``.

    ``windows`` is [N, W] or [N, W, F] (feature 0 is the series).  The autocorrelation
    at lag k pools every window's pairs (t, t+k).  A peak is a lag whose value rises
    above the previous lag's and is not below the next one's; with no positive peak
    (no seasonality within the window) the season is 1, i.e. "the last value".
    """
    w = _series_values(windows).double()
    width = w.shape[1]
    if width < 4:
        return 1
    centred = w - w.mean()
    var = float(centred.pow(2).mean())
    if var <= 0:
        return 1
    acf = [1.0] + [float((centred[:, k:] * centred[:, :-k]).mean()) / var for k in range(1, width)]
    peaks = [k for k in range(2, width - 1) if acf[k] > acf[k - 1] and acf[k] >= acf[k + 1]]
    best = max(peaks, key=lambda k: acf[k], default=None)
    return best if best is not None and acf[best] > 0 else 1


def seasonal_naive(x: torch.Tensor, season: int, horizon: int) -> torch.Tensor:
    """The seasonal naive forecast [N, horizon] from windows ``x`` ([N, W] or [N, W, F]).

    Step h (1-based) of the forecast is the value ``season`` steps before it, repeating
    the last observed season for horizons longer than one season:
    ``x[W - season + (h - 1) % season]``.  ``season`` must be at most the window W.
    """
    w = _series_values(x)
    width = w.shape[1]
    if not 1 <= season <= width:
        raise ValueError(f"the season ({season}) must be between 1 and the window ({width})")
    index = width - season + torch.arange(horizon, device=w.device) % season
    return w[:, index]


@dataclass
class Rollout:
    """A forecast over a split, to draw over the truth: values at series positions."""

    index: torch.Tensor  # (M,) int64 positions in the series
    forecast: torch.Tensor  # (M,) in the split's units (normalised if the data set is)
    truth: torch.Tensor  # (M,)


def rollout(model: nn.Module, split: Any, *, recursive: bool = False,
            batch_size: int = 256) -> Rollout:
    """The model's forecast over ``split``, on the CPU.

    By default each window predicts its next value (one step ahead, always from the
    true past).  ``recursive=True`` starts from the split's first window only and feeds
    the model its own forecasts back, ``horizon`` values at a time, until the split's
    span is covered: how far the model can see on its own.  Positions come from
    ``split.extra["target_index"]`` when the data set gives them, else 0, 1, 2, ...
    Multiply by the data set's ``target_std`` and add ``target_mean`` for original units.
    """
    n = len(split)
    extra = getattr(split, "extra", {}) or {}
    first = extra.get("target_index")
    index = (first.cpu().long() if first is not None and len(first) == n
             else torch.arange(n, dtype=torch.int64))
    truth = split.y.reshape(n, -1)[:, 0].float().cpu()
    if n == 0:
        return Rollout(index, torch.zeros(0), truth)
    with eval_mode(model), torch.no_grad():
        if not recursive:
            preds = []
            for i in range(0, n, batch_size):
                xb = split.x[i:i + batch_size]
                preds.append(model(xb).reshape(len(xb), -1)[:, 0])
            return Rollout(index, torch.cat(preds).float().cpu(), truth)
        window = split.x[:1]
        if window.dim() == 3 and window.shape[2] != 1:
            raise TrainingError("A recursive rollout feeds the forecasts back as inputs, so the "
                                "window must be the series alone (one feature).")
        made: list[torch.Tensor] = []
        count = 0
        while count < n:
            step = model(window).reshape(1, -1)
            made.append(step[0])
            count += step.shape[1]
            fed = step.reshape(1, -1, *window.shape[2:]).to(window.dtype)
            window = torch.cat([window, fed], dim=1)[:, -window.shape[1]:]
    forecast = torch.cat(made)[:n].float().cpu()
    positions = index[0] + torch.arange(n, dtype=torch.int64)
    series = extra.get("series")
    if series is not None and int(positions[-1]) < len(series):
        truth = series[positions].float().cpu()
    return Rollout(positions, forecast, truth)


@register_recipe
class ForecastRecipe(RegressionRecipe):
    """Regression on windows of a series, measured against the seasonal naive forecast."""

    name = "forecast"
    title = "forecasting"
    requires = (one_graph("forecast"),)
    metric_modes: ClassVar[dict[str, Mode]] = {
        **RegressionRecipe.metric_modes, "seasonal_naive_mse": "min", "naive_ratio": "max"}

    def __init__(self, config: Any, info: Any) -> None:
        super().__init__(config, info)
        self.season = 1
        # what the live view needs from the data set: original units, series positions
        self._scale: tuple[float, float] = (1.0, 0.0)  # (std, mean) of the targets
        self._positions: torch.Tensor | None = None  # where the probe's targets sit

    def setup(self, train: Any, splits: Any) -> None:
        if train.x.dim() not in (2, 3):
            raise TrainingError(f"Forecasting needs windows of past values ([B, window, features]); "
                                f"this data set gives {show_shape(tuple(train.x.shape))}.")
        self.season = estimate_season(train.x)
        std, mean = getattr(splits, "target_std", None), getattr(splits, "target_mean", None)
        if std is not None and mean is not None and std.numel() >= 1 and mean.numel() >= 1:
            self._scale = (float(std.reshape(-1)[0]), float(mean.reshape(-1)[0]))
        # the trainer's probe is the start of the validation split (else of training)
        shown = splits.val if len(splits.val) else splits.train
        self._positions = (getattr(shown, "extra", None) or {}).get("target_index")

    def evaluate(self, model: nn.Module, split: Any, batch_size: int) -> Evaluation:
        ev = super().evaluate(model, split, batch_size)
        if len(split) == 0:
            return ev
        y = split.y.reshape(len(split), -1)
        naive = mse(seasonal_naive(split.x, self.season, y.shape[1]).cpu(), y.cpu())
        model_mse = ev.metrics["mse"]
        ev.metrics["seasonal_naive_mse"] = naive
        ev.metrics["naive_ratio"] = naive / model_mse if model_mse > 0 else float("inf")
        return ev

    def preview(self, model: nn.Module, source: Any, step: int, epoch: int) -> list[Preview]:
        """The forecast over the truth on the probe's consecutive windows.

        Each probe window predicts its next value (one step ahead, from the true past),
        drawn at the series position of its target, in the data set's original units,
        with the seasonal naive forecast dashed: a forecast worth having lies closer to
        the truth than the dashed line does.
        """
        n = len(source)
        if n == 0:
            return []
        truth = source.y.reshape(n, -1)[:, 0]
        forecast = model(source.x).reshape(n, -1)[:, 0]
        naive = seasonal_naive(source.x, self.season, 1)[:, 0]
        std, mean = self._scale
        pos = self._positions
        if pos is not None and len(pos) >= n:
            x, x_label = pos[:n].double().numpy(), "time step"
        else:
            x, x_label = np.arange(n, dtype=np.float64), "validation step"
        ago = "last value" if self.season == 1 else f"{self.season} steps ago"
        lines = [
            {"name": "truth", "y": to_numpy(truth * std + mean), "dashed": False},
            {"name": "forecast", "y": to_numpy(forecast * std + mean), "dashed": False},
            {"name": f"seasonal naive ({ago})", "y": to_numpy(naive * std + mean),
             "dashed": True},
        ]
        return [Preview("series", "Forecast over the truth",
                        {"x": x, "lines": lines, "x_label": x_label, "y_label": "value"})]

    def rollout(self, model: nn.Module, split: Any, *, recursive: bool = False) -> Rollout:
        """See :func:`rollout`."""
        return rollout(model, split, recursive=recursive)
