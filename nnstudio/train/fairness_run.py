"""From a trained classifier to its fairness reports: what happens after a run ends.

:func:`evaluate_fairness` runs the model over the validation and test splits once,
reads the groups of each sensitive column from ``Split.extra``, and returns for each
column a :class:`FairnessEvaluation`: the test-split report of the decisions as
trained, and (two classes with a validation split) the report with per-group
thresholds chosen on validation.  A regression model (one target) gets one report of
its errors per group instead (:mod:`nnstudio.train.fairness_regression`).  The
window's fairness view, ``nnstudio train`` and the model card all start here.  No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.fairness import FairnessReport, fairness_report
from nnstudio.train.fairness_regression import (
    RegressionFairnessReport,
    is_regression,
    regression_report,
)
from nnstudio.train.mitigation import choose_group_thresholds
from nnstudio.train.recipes import ClassificationRecipe, RegressionRecipe, create_recipe

if TYPE_CHECKING:
    from nnstudio.data.base import DatasetSplits, Split
    from nnstudio.train.config import TrainConfig

AS_TRAINED = "as trained"
THRESHOLDED = "per-group thresholds"


@dataclass
class FairnessEvaluation:
    """The fairness of one trained model with respect to one sensitive column."""

    column: str
    # [as trained] or [as trained, per-group thresholds]; a regressor: [as trained]
    reports: list[FairnessReport | RegressionFairnessReport]
    reweight: str = "none"  # how the model was trained (TrainConfig.reweight)
    notes: list[str] = field(default_factory=list)

    @property
    def baseline(self) -> FairnessReport | RegressionFairnessReport:
        return self.reports[0]

    @property
    def regression(self) -> bool:
        """Whether these are a regression model's per-group errors."""
        return is_regression(self.reports[0])

    @property
    def thresholded(self) -> FairnessReport | None:
        return next((r for r in self.reports if r.label == THRESHOLDED), None)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "reweight": self.reweight, "notes": list(self.notes),
                "reports": [r.to_dict() for r in self.reports]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FairnessEvaluation:
        reports = [RegressionFairnessReport.from_dict(r) if is_regression_dict(r)
                   else FairnessReport.from_dict(r) for r in data["reports"]]
        return cls(str(data["column"]), reports, str(data.get("reweight", "none")),
                   list(data.get("notes", [])))


def is_regression_dict(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "regression"



def _device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _outputs(model: nn.Module, split: Split, batch_size: int) -> torch.Tensor:
    device = _device(model)
    outs = []
    with eval_mode(model), torch.no_grad():
        for i in range(0, len(split), batch_size):
            outs.append(model(split.x[i:i + batch_size].to(device)).detach().float().cpu())
    return torch.cat(outs)


def positive_scores(recipe: ClassificationRecipe, out: torch.Tensor) -> np.ndarray | None:
    """P(class 1) per example from a two-class model's outputs; None for more classes."""
    if recipe.n_classes != 2:
        return None
    loss = recipe.loss_name
    if loss == "bce":
        p = torch.sigmoid(out.reshape(-1))
    elif loss == "bce_prob":
        p = out.reshape(-1)
    elif loss == "nll":
        p = out.exp()[:, 1]
    else:
        p = torch.softmax(out, dim=-1)[:, 1]
    return p.double().numpy()


def _bound_recipe(model: nn.Module, splits: DatasetSplits,
                  config: TrainConfig) -> ClassificationRecipe | None:
    recipe = create_recipe(config, splits.info)
    if not isinstance(recipe, ClassificationRecipe):
        return None
    sample_from = splits.test if len(splits.test) else splits.val
    with eval_mode(model), torch.no_grad():
        sample = model(sample_from.x[:2].to(_device(model)))
    if recipe.prepare(model, sample):  # the loss does not fit: the trainer said so already
        return None
    return recipe


def decisions_and_scores(model: nn.Module, splits: DatasetSplits, config: TrainConfig,
                         split: str = "test", batch_size: int = 1024
                         ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The trained classifier's decisions on ``split`` (int64, as the trainer counts
    them) and, with two classes, its probability of class 1; None if not a classifier."""
    recipe = _bound_recipe(model, splits, config)
    if recipe is None:
        return None
    out = _outputs(model, getattr(splits, split), batch_size)
    return recipe.predict(out).numpy(), positive_scores(recipe, out)


def evaluate_fairness(model: nn.Module, splits: DatasetSplits, config: TrainConfig, *,
                      split: str = "test", objective: str = "demographic_parity",
                      batch_size: int = 1024) -> list[FairnessEvaluation]:
    """One :class:`FairnessEvaluation` per sensitive column of ``splits.info``.

    Empty when the data set has no sensitive column, the recipe is neither
    classification nor one-target regression, or ``split`` is empty.  Thresholds (two classes only) are chosen on the validation
    split with ``objective`` (see :func:`~nnstudio.train.mitigation.choose_group_thresholds`)
    and measured on ``split``.
    """
    info = splits.info
    target: Split = getattr(splits, split)
    if not info.sensitive or len(target) == 0:
        return []
    if info.task == "regression":
        return _regression_fairness(model, splits, config, split, batch_size)
    found = decisions_and_scores(model, splits, config, split, batch_size)
    if found is None:
        return []
    pred, scores = found
    y = target.y.reshape(-1).long().numpy()
    val = splits.val
    use_val = scores is not None and len(val) > 0 and split != "val"
    if use_val:
        val_scores = decisions_and_scores(model, splits, config, "val", batch_size)[1]
        val_y = val.y.reshape(-1).long().numpy()
    results = []
    reweight = getattr(config, "reweight", "none")
    for column, names in info.sensitive:
        if column not in target.extra:
            continue
        groups = target.extra[column].reshape(-1).long().numpy()
        common = {"column": column, "group_names": names, "classes": info.classes,
                  "split": split}
        reports = [fairness_report(y, pred, groups, scores=scores, label=AS_TRAINED, **common)]
        notes = []
        if use_val and column in val.extra:
            val_groups = val.extra[column].reshape(-1).long().numpy()
            chosen = choose_group_thresholds(val_scores, val_y, val_groups, objective)
            adjusted = chosen.apply(scores, groups)
            report = fairness_report(y, adjusted, groups, scores=scores, label=THRESHOLDED,
                                     **common)
            report.thresholds = {(names[c] if 0 <= c < len(names) else str(c)): t
                                 for c, t in chosen.thresholds.items()}
            reports.append(report)
        small = [r.name for r in reports[0].groups if r.n < 30]
        if small:
            notes.append(f"fewer than 30 {split} examples in group(s) {', '.join(small)}: "
                         "their figures are uncertain")
        results.append(FairnessEvaluation(column, reports, reweight, notes))
    return results


def regression_predictions(model: nn.Module, splits: DatasetSplits, config: TrainConfig,
                           split: str = "test", batch_size: int = 1024
                           ) -> tuple[np.ndarray, np.ndarray] | None:
    """(true values, predictions) of a one-target regressor on ``split``, in the target's
    own units (standardisation undone); None if the run is not such a regressor."""
    if not isinstance(create_recipe(config, splits.info), RegressionRecipe):
        return None
    part: Split = getattr(splits, split)
    n = len(part)
    pred = _outputs(model, part, batch_size).double().reshape(n, -1).numpy()
    y = part.y.double().reshape(n, -1).numpy()
    if pred.shape[1] != 1 or y.shape[1] != 1:
        return None
    pred, y = pred[:, 0], y[:, 0]
    if splits.target_mean is not None and splits.target_std is not None:
        mean = float(splits.target_mean.reshape(-1)[0])
        std = float(splits.target_std.reshape(-1)[0])
        pred, y = pred * std + mean, y * std + mean
    return y, pred


def _regression_fairness(model: nn.Module, splits: DatasetSplits, config: TrainConfig,
                         split: str, batch_size: int) -> list[FairnessEvaluation]:
    found = regression_predictions(model, splits, config, split, batch_size)
    if found is None:
        return []
    y, pred = found
    target: Split = getattr(splits, split)
    results = []
    for column, names in splits.info.sensitive:
        if column not in target.extra:
            continue
        groups = target.extra[column].reshape(-1).long().numpy()
        report = regression_report(y, pred, groups, column=column, group_names=names,
                                   split=split, seed=config.seed)
        small = [r.name for r in report.groups if r.n < 30]
        notes = []
        if small:
            notes.append(f"fewer than 30 {split} examples in group(s) {', '.join(small)}: "
                         "their figures are uncertain")
        results.append(FairnessEvaluation(column, [report], "none", notes))
    return results
