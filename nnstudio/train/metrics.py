"""Metrics for classification and regression, computed with torch on any device.

Definitions follow scikit-learn's (``accuracy_score``, ``confusion_matrix``,
``precision_recall_fscore_support`` with ``zero_division=0``, ``mean_squared_error``,
``mean_absolute_error``, ``r2_score`` with uniform averaging over targets), so the
numbers a learner sees match the ones in any tutorial.  Each function takes
tensors and returns tensors or Python floats; nothing here syncs a GPU more than
once per call.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of ``pred`` class indices equal to ``target`` (both 1-D integer tensors)."""
    if pred.numel() == 0:
        return 0.0
    return float((pred == target).float().mean())


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``n_classes`` × ``n_classes`` int64 counts: row = true class, column = predicted class."""
    pred = pred.reshape(-1).long()
    target = target.reshape(-1).long()
    flat = torch.bincount(target * n_classes + pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


@dataclass(frozen=True)
class ClassScores:
    """Per-class scores (1-D float tensors, one entry per class) and their macro means."""

    precision: torch.Tensor
    recall: torch.Tensor
    f1: torch.Tensor
    support: torch.Tensor  # number of true examples of each class

    def macro(self) -> dict[str, float]:
        """Unweighted means over classes, as scikit-learn's ``average='macro'``."""
        return {
            "precision_macro": float(self.precision.mean()),
            "recall_macro": float(self.recall.mean()),
            "f1_macro": float(self.f1.mean()),
        }

    def table(self, class_names: tuple[str, ...] | list[str] = ()) -> list[dict[str, object]]:
        """One row per class: name, precision, recall, f1, support (plain Python values)."""
        rows = []
        values = zip(
            self.precision.tolist(), self.recall.tolist(), self.f1.tolist(), self.support.tolist()
        )
        for i, (p, r, f, s) in enumerate(values):
            name = class_names[i] if i < len(class_names) else str(i)
            rows.append({"class": name, "precision": p, "recall": r, "f1": f, "support": int(s)})
        return rows


def class_scores(cm: torch.Tensor) -> ClassScores:
    """Precision, recall and F1 of each class from a confusion matrix.

    A ratio whose denominator is zero counts as 0, as scikit-learn's ``zero_division=0``.
    """
    cm = cm.double()
    tp = cm.diagonal()
    predicted = cm.sum(dim=0)
    actual = cm.sum(dim=1)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, actual)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return ClassScores(precision, recall, f1, actual.long())


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    return torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(num))


def classification_metrics(cm: torch.Tensor) -> dict[str, float]:
    """Accuracy and macro precision/recall/F1 from a confusion matrix."""
    total = float(cm.sum())
    metrics = {"accuracy": float(cm.diagonal().sum()) / total if total else 0.0}
    metrics.update(class_scores(cm).macro())
    return metrics


def mse(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared error over all elements."""
    return float(((pred.double() - target.double()) ** 2).mean())


def mae(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute error over all elements."""
    return float((pred.double() - target.double()).abs().mean())


def r2_score(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination, averaged uniformly over targets (columns).

    Inputs are [N] or [N, T]. A target with zero variance scores 1.0 when predicted
    exactly and 0.0 otherwise, as scikit-learn's default ``force_finite=True``.
    """
    pred = pred.double().reshape(pred.shape[0], -1)
    target = target.double().reshape(target.shape[0], -1)
    ss_res = ((target - pred) ** 2).sum(dim=0)
    ss_tot = ((target - target.mean(dim=0)) ** 2).sum(dim=0)
    safe = torch.where(ss_tot > 0, ss_tot, torch.ones_like(ss_tot))
    per_target = torch.where(
        ss_tot > 0,
        1.0 - ss_res / safe,
        torch.where(ss_res == 0, torch.ones_like(ss_res), torch.zeros_like(ss_res)),
    )
    return float(per_target.mean())


def regression_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """MSE, MAE and R² of predictions against targets of the same shape."""
    return {"mse": mse(pred, target), "mae": mae(pred, target), "r2": r2_score(pred, target)}
