"""Training recipes: what a task's loss, targets and metrics are.

A recipe turns a batch into a loss, says whether a model's output fits the task,
and evaluates a split.  The trainer only talks to the :class:`Recipe` interface,
so a new task (reconstruction, VAE, GAN, forecasting) is one new subclass
registered with :func:`register_recipe`; the trainer does not change.

The built-in recipes live in this module because they are small; later ones
should get a module each and register themselves on import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.errors import ConfigError, TrainingError
from nnstudio.train.metrics import (
    class_scores,
    classification_metrics,
    confusion_matrix,
    regression_metrics,
)
from nnstudio.train.requirements import Layout, one_graph

if TYPE_CHECKING:  # the trainer duck-types the data contract; no runtime import needed
    from nnstudio.data.base import DatasetInfo, DatasetSplits, Split
    from nnstudio.train.config import TrainConfig
    from nnstudio.train.preview import Preview

Mode = Literal["min", "max"]
Batch = tuple[torch.Tensor, ...]  # (inputs, targets) or (inputs, targets, example weights)


@dataclass
class Evaluation:
    """What evaluating one split gives: metrics, and for classification the details."""

    metrics: dict[str, float]
    confusion: list[list[int]] | None = None  # row = true class, column = predicted
    per_class: list[dict[str, Any]] | None = None  # class, precision, recall, f1, support


class Recipe:
    """Base class of training recipes.  Subclasses set the class attributes and
    implement :meth:`loss` and :meth:`evaluate`; the rest has working defaults.

    ``requires`` lists the ways the drawing may be laid out for this recipe (see
    :mod:`nnstudio.train.requirements`); the default is one graph with one output.
    Recipes that train several networks or need more than one loss override the
    hooks :meth:`setup`, :meth:`sample_output`, :meth:`build_optimizer`,
    :meth:`start_epoch` and :meth:`end_epoch`; the defaults cost nothing per step.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # how messages name the recipe ("VAE"); "" = name
    losses: ClassVar[tuple[str, ...]] = ("auto",)  # names accepted for TrainConfig.loss
    metric_modes: ClassVar[dict[str, Mode]] = {"loss": "min"}  # metric -> better direction
    default_monitor: ClassVar[str] = "loss"
    requires: ClassVar[tuple[Layout, ...]] = (one_graph("output"),)

    def __init__(self, config: TrainConfig, info: DatasetInfo) -> None:
        self.config = config
        self.info = info
        self.loss_name = config.loss  # "auto" is resolved by prepare()
        self._params: list[nn.Parameter] = []
        self._clip = config.grad_clip  # read on every step: keep it one lookup away

    # ----------------------------------------------------------------- checking
    def check(self, output_shape: Sequence[int | None]) -> list[str]:
        """Problems with a model whose output has ``output_shape`` ([B, ...]); [] if fine."""
        return []

    def prepare(self, model: nn.Module, sample_output: torch.Tensor) -> list[str]:
        """Bind to ``model`` given its output on a couple of examples; return problems.

        Resolves ``loss="auto"`` and remembers the trainable parameters for clipping.
        """
        self._params = [p for p in model.parameters() if p.requires_grad]
        return self.check(tuple(sample_output.shape))

    def prepare_targets(self, y: torch.Tensor) -> torch.Tensor:
        """Targets in the dtype and shape :meth:`loss` wants (called once per split)."""
        return y

    @classmethod
    def display_name(cls) -> str:
        """The recipe as messages name it: ``title`` or ``name``."""
        return cls.title or cls.name

    def setup(self, train: Any, splits: DatasetSplits) -> None:
        """Learn what the recipe needs from the training split before the first check.

        ``train`` has ``x`` and ``y`` already on the device (targets prepared);
        ``splits`` is the whole data set as loaded.  Raise TrainingError to refuse it.
        """

    def example_weights(self, splits: DatasetSplits) -> torch.Tensor | None:
        """Per-example loss weights for the training split ([N] float), or None (the
        default): with weights, the trainer's batches are (inputs, targets, weights)."""
        return None

    def sample_output(self, model: nn.Module, x: torch.Tensor) -> Any:
        """The model's output on two examples ``x``, for :meth:`prepare` to judge.

        Runs in eval mode without gradients.  Recipes whose model is several graphs
        or returns several tensors override this (and :meth:`prepare`).
        """
        out = model(x)
        if not isinstance(out, torch.Tensor):
            raise TrainingError(f"The model must return one tensor; it returns a {type(out).__name__}.")
        return out

    def build_optimizer(self, model: nn.Module, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """The optimizer over the trainable ``params`` (a GAN returns one per network)."""
        from nnstudio.train.optim import build_optimizer  # optim -> config -> this module

        return build_optimizer(params, self.config)

    def start_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        """Called before epoch ``epoch`` (1-based; also after resuming) starts."""

    def end_epoch(self) -> dict[str, float]:
        """Training-side values of the epoch just done, beside ``train_loss`` in the
        history (a GAN's ``loss_g`` and ``loss_d``).  Called once per epoch."""
        return {}

    def mode(self, metric: str) -> Mode:
        """Whether a larger or smaller ``metric`` is better."""
        return self.metric_modes.get(metric, "min")

    # ----------------------------------------------------------------- training
    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean loss of ``batch`` = (inputs, targets); returns (loss, outputs, targets)."""
        raise NotImplementedError

    def train_step(self, model: nn.Module, batch: Batch, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """One optimisation step on ``batch``; returns the (undetached) loss tensor.

        Recipes that need more than one optimizer or loss (GANs) override this.
        """
        optimizer.zero_grad(set_to_none=True)
        loss = self.loss(model, batch)[0]
        loss.backward()
        if self._clip > 0:
            torch.nn.utils.clip_grad_norm_(self._params, self._clip)
        optimizer.step()
        return loss

    def preview(self, model: nn.Module, source: Split, step: int, epoch: int) -> list[Preview]:
        """Pictures of the model at work on ``source`` (a probe split) for the window's
        Live page (see :mod:`nnstudio.train.preview`); none by default.  Runs in eval
        mode without gradients, at most about once a second: keep it cheap."""
        return []

    def evaluate(self, model: nn.Module, split: Split, batch_size: int) -> Evaluation:
        """Metrics of ``model`` on ``split`` (eval mode, no gradients, any batch size)."""
        raise NotImplementedError


# --------------------------------------------------------------------- registry
_RECIPES: dict[str, type[Recipe]] = {}


def register_recipe(cls: type[Recipe]) -> type[Recipe]:
    """Class decorator adding a recipe under ``cls.name``; a second one of that name is refused."""
    if not cls.name:
        raise ValueError(f"recipe {cls.__qualname__} has no name")
    if cls.name in _RECIPES:
        raise ValueError(f"a recipe named {cls.name!r} is already registered")
    _RECIPES[cls.name] = cls
    return cls


def recipe_names() -> tuple[str, ...]:
    """Names of all registered recipes."""
    return tuple(_RECIPES)


def recipe_class(name: str) -> type[Recipe]:
    """The recipe class registered as ``name``; ConfigError naming the field if none."""
    try:
        return _RECIPES[name]
    except KeyError:
        known = ", ".join(sorted(_RECIPES))
        raise ConfigError("recipe", f"unknown recipe {name!r}; known recipes: {known}") from None


def create_recipe(config: TrainConfig, info: DatasetInfo) -> Recipe:
    """A fresh recipe object for ``config.recipe`` and the data set described by ``info``."""
    return recipe_class(config.recipe)(config, info)


# --------------------------------------------------------------------- helpers
def show_shape(shape: Sequence[int | None]) -> str:
    """``(32, 2)`` -> ``"[B, 2]"``: the batch size is not the person's concern."""
    return "[" + ", ".join(["B", *(str(s) for s in shape[1:])]) + "]"


def final_module(model: nn.Module) -> nn.Module | None:
    """The last leaf module registered in ``model`` (usually its output layer)."""
    last = None
    for module in model.modules():
        if next(module.children(), None) is None:
            last = module
    return last


def _batches(n: int, batch_size: int) -> range:
    return range(0, n, batch_size)


# --------------------------------------------------------------- classification
@register_recipe
class ClassificationRecipe(Recipe):
    """Predict one of ``info.classes`` per example; targets are class indices.

    Losses: ``cross_entropy`` (outputs are logits, [B, C]); ``nll`` (outputs are
    log-probabilities from LogSoftmax); ``bce`` (two classes, one output unit that is
    a *logit*, trained with BCEWithLogits, the numerically safe form); ``bce_prob``
    (two classes, one unit that is already a probability, i.e. the model ends in
    Sigmoid).  ``auto`` picks from the output shape and the model's last layer.
    """

    name = "classification"
    requires = (one_graph("scores"),)
    losses = ("auto", "cross_entropy", "nll", "bce", "bce_prob")
    metric_modes: ClassVar[dict[str, Mode]] = {
        "loss": "min", "accuracy": "max", "precision_macro": "max", "recall_macro": "max",
        "f1_macro": "max"}
    default_monitor = "loss"

    @property
    def n_classes(self) -> int:
        return self.info.n_classes

    def _single_unit(self, shape: Sequence[int | None]) -> bool:
        return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)

    def _resolved(self, shape: Sequence[int | None]) -> str:
        if self.loss_name != "auto":
            return self.loss_name
        return "bce" if self._single_unit(shape) and self.n_classes == 2 else "cross_entropy"

    def check(self, output_shape: Sequence[int | None]) -> list[str]:
        c, shown = self.n_classes, show_shape(output_shape)
        if c < 2:
            return [f"classification needs at least 2 classes; the data set has {c}"]
        loss = self._resolved(output_shape)
        if loss in ("bce", "bce_prob"):
            if c != 2:
                return [(f"'{loss}' is for two classes with one output unit; "
                         f"this data set has {c} classes: use cross_entropy")]
            if not self._single_unit(output_shape):
                return [(f"'{loss}' needs one output unit per example ([B, 1]); "
                         f"the model gives {shown}")]
            return []
        if len(output_shape) != 2 or output_shape[1] != c:
            return [(f"classification needs one output with {c} class scores ([B, {c}]), "
                     f"the model gives {shown}")]
        return []

    def prepare(self, model: nn.Module, sample_output: torch.Tensor) -> list[str]:
        problems = super().prepare(model, sample_output)
        if problems:
            return problems
        last = final_module(model)
        out = sample_output.detach().float()
        ends_sigmoid = isinstance(last, nn.Sigmoid) and bool(((out >= 0) & (out <= 1)).all())
        ends_logsoftmax = isinstance(last, nn.LogSoftmax)
        ends_softmax = isinstance(last, nn.Softmax) and bool(
            torch.allclose(out.sum(dim=-1), torch.ones(1, device=out.device), atol=1e-4))
        if self.loss_name == "auto":
            if self._single_unit(out.shape):
                self.loss_name = "bce_prob" if ends_sigmoid else "bce"
            else:
                self.loss_name = "nll" if ends_logsoftmax else "cross_entropy"
        loss = self.loss_name
        if ends_softmax and loss in ("cross_entropy", "nll"):
            return [("the model ends in Softmax, but the loss needs raw scores (logits): "
                     "remove the Softmax layer, or use LogSoftmax with the nll loss")]
        if loss == "nll" and not ends_logsoftmax:
            return [("the nll loss needs log-probabilities: end the model with LogSoftmax "
                     "or use cross_entropy")]
        if loss == "bce" and ends_sigmoid:
            return [("the model ends in Sigmoid but 'bce' expects logits: remove the Sigmoid "
                     "(more stable) or choose 'bce_prob'")]
        if loss == "bce_prob" and not ends_sigmoid:
            return ["'bce_prob' needs probabilities: end the model with Sigmoid, or use 'bce'"]
        return []

    def prepare_targets(self, y: torch.Tensor) -> torch.Tensor:
        y = y.reshape(-1)
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise TrainingError("classification targets must be class indices 0, 1, 2, …; "
                                "found fractional values")
        y = y.long()
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.n_classes):
            raise TrainingError(
                f"classification targets must lie in 0..{self.n_classes - 1} "
                f"({self.n_classes} classes); found {int(y.min())}..{int(y.max())}")
        return y

    def _loss_value(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        loss = self.loss_name
        if loss == "cross_entropy":
            return F.cross_entropy(out, y, reduction=reduction)
        if loss == "nll":
            return F.nll_loss(out, y, reduction=reduction)
        if loss == "bce":
            return F.binary_cross_entropy_with_logits(out.reshape(-1), y.to(out.dtype),
                                                      reduction=reduction)
        if loss == "bce_prob":
            return F.binary_cross_entropy(out.reshape(-1), y.to(out.dtype), reduction=reduction)
        raise ConfigError("loss", f"{loss!r} is not a classification loss")

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        """Class indices from model outputs."""
        if self.loss_name == "bce":
            return (out.reshape(-1) > 0).long()
        if self.loss_name == "bce_prob":
            return (out.reshape(-1) > 0.5).long()
        return out.argmax(dim=-1)

    def example_weights(self, splits: DatasetSplits) -> torch.Tensor | None:
        """Kamiran & Calders weights over the sensitive columns when ``reweight`` is
        "group_label" (see :mod:`nnstudio.train.mitigation`); else None."""
        if getattr(self.config, "reweight", "none") != "group_label":
            return None
        from nnstudio.train.mitigation import joint_groups, reweighing_weights

        columns = [name for name, _ in self.info.sensitive if name in splits.train.extra]
        if not columns:
            raise TrainingError("Re-weighting by group and label needs a data set with a "
                                "sensitive column (e.g. the CSV option 'sensitive'); this one "
                                "has none. Set reweight to none.")
        groups = joint_groups([splits.train.extra[c].cpu().numpy() for c in columns])
        weights = reweighing_weights(groups, splits.train.y.reshape(-1).cpu().numpy())
        return torch.from_numpy(weights)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = batch[0], batch[1]
        out = model(x)
        if len(batch) > 2:  # per-example weights (re-weighting): their mean is 1 over the data
            return (self._loss_value(out, y, reduction="none") * batch[2]).mean(), out, y
        return self._loss_value(out, y), out, y

    def evaluate(self, model: nn.Module, split: Split, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})
        sums, preds = [], []
        with eval_mode(model), torch.no_grad():
            for i in _batches(n, batch_size):
                out = model(split.x[i:i + batch_size])
                sums.append(self._loss_value(out, split.y[i:i + batch_size], reduction="sum"))
                preds.append(self.predict(out))
        # metrics are computed on the CPU in float64: one transfer, and MPS has no float64
        total = float(torch.stack(sums).cpu().double().sum())
        cm = confusion_matrix(torch.cat(preds).cpu(), split.y.cpu(), self.n_classes)
        metrics = {"loss": total / n, **classification_metrics(cm)}
        table = class_scores(cm).table(self.info.classes)
        return Evaluation(metrics, confusion=cm.tolist(), per_class=table)


# ------------------------------------------------------------------- regression
@register_recipe
class RegressionRecipe(Recipe):
    """Predict ``info.n_targets`` real numbers per example; loss mse (default), l1 or huber."""

    name = "regression"
    requires = (one_graph("prediction"),)
    losses = ("auto", "mse", "l1", "huber")
    metric_modes: ClassVar[dict[str, Mode]] = {"loss": "min", "mse": "min", "mae": "min", "r2": "max"}
    default_monitor = "loss"

    def check(self, output_shape: Sequence[int | None]) -> list[str]:
        t = self.info.n_targets
        ok = (len(output_shape) == 2 and output_shape[1] == t) or (len(output_shape) == 1 and t == 1)
        if ok:
            return []
        return [(f"regression needs one output with {t} value{'s' if t != 1 else ''} per example "
                 f"([B, {t}]), the model gives {show_shape(output_shape)}")]

    def prepare(self, model: nn.Module, sample_output: torch.Tensor) -> list[str]:
        if self.loss_name == "auto":
            self.loss_name = "mse"
        return super().prepare(model, sample_output)

    def prepare_targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.float().reshape(y.shape[0], -1) if y.dim() else y.float()

    def _loss_value(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        out = out.reshape(y.shape)  # [B] and [B, 1] are the same thing for one target
        if self.loss_name == "mse":
            return F.mse_loss(out, y, reduction=reduction)
        if self.loss_name == "l1":
            return F.l1_loss(out, y, reduction=reduction)
        if self.loss_name == "huber":
            return F.huber_loss(out, y, reduction=reduction)
        raise ConfigError("loss", f"{self.loss_name!r} is not a regression loss")

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = batch
        out = model(x)
        return self._loss_value(out, y), out, y

    def evaluate(self, model: nn.Module, split: Split, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})
        outs = []
        with eval_mode(model), torch.no_grad():
            for i in _batches(n, batch_size):
                outs.append(model(split.x[i:i + batch_size]).reshape(-1, *split.y.shape[1:]))
        pred = torch.cat(outs)
        loss = float(self._loss_value(pred, split.y, reduction="mean"))
        # on the CPU in float64: one transfer, and MPS has no float64
        return Evaluation({"loss": loss, **regression_metrics(pred.cpu(), split.y.cpu())})
