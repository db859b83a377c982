"""The GAN recipe: a generator and a discriminator trained against each other.

The project has two graphs: ``generator`` (noise z -> a fake example; the noise size
is its Input's shape) and ``discriminator`` (an example -> one logit, "real").
Every training step updates the discriminator once on a real batch and a fake one,
then the generator once with the non-saturating loss of Goodfellow et al. (2014),
both with BCE on logits.  Each network has its own Adam with β1 = 0.5 (Radford et
al. 2016, DCGAN); the discriminator may have its own learning rate (``lr_d``).
The history gets a curve per network, ``loss_d`` and ``loss_g``.

On data whose classes are its modes (``gaussians8``), evaluation also counts the
modes the generator covers and the share of high-quality samples (see
:func:`mode_coverage`).  On other data with classes (digits), it reports the share of
samples that look like real examples, ``samples_recognised``, and of how many classes,
``classes_covered`` (see :mod:`nnstudio.train.sample_judge`).

Live view (:meth:`GANRecipe.preview`): 2-D data shows the generated points over the
real ones; images show a 6 x 6 grid generated from the same fixed noise every time,
so the learner watches the same samples improve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.errors import TrainingError
from nnstudio.train.generative_previews import (
    GRID_SIDE,
    REAL_POINTS,
    judged_captions,
    points_preview,
    samples_preview,
)
from nnstudio.train.graph_set import GraphSet, OptimizerSet
from nnstudio.train.preview import Preview
from nnstudio.train.recipes import (
    Batch,
    Evaluation,
    Mode,
    Recipe,
    final_module,
    register_recipe,
    show_shape,
)
from nnstudio.train.requirements import GraphRole, Layout, ordered_outputs
from nnstudio.train.sample_judge import SampleJudge, judge_for

GENERATOR = GraphRole("generator", ("fake",), "noise", "noise z → a fake example")
DISCRIMINATOR = GraphRole("discriminator", ("logit",), "data", "an example → one real/fake logit")
GAN_BETAS = (0.5, 0.999)  # Adam's betas for GANs, after Radford et al. (2016)


@dataclass(frozen=True)
class ModeCoverage:
    modes_covered: int
    high_quality: float  # share of the points within 3σ of their nearest mode
    counts: tuple[int, ...]  # high-quality points per mode


def mode_coverage(points: torch.Tensor, centres: torch.Tensor, std: float | torch.Tensor,
                  *, min_fraction: float = 0.01) -> ModeCoverage:
    """How well ``points`` [N, D] cover the modes ``centres`` [K, D] of spread ``std``.

    The criterion of the unrolled-GAN and VEEGAN papers (Metz et al. 2017; Srivastava
    et al. 2017) on the ring of 2-D gaussians: a generated point is *high quality*
    when it lies within 3 standard deviations of its nearest mode centre.  A mode
    counts as *covered* when at least ``min_fraction`` of the N points are high-quality
    points of that mode; 1% is our threshold (an even spread gives 1/K = 12.5% each on
    8 modes), so a few stray points do not make a mode count, and a collapsed
    generator covers only the modes it really makes.  ``std`` is a number or one per mode.
    """
    points = points.detach().reshape(len(points), -1).double().cpu()
    centres = centres.detach().double().cpu()
    k = len(centres)
    if len(points) == 0:
        return ModeCoverage(0, 0.0, (0,) * k)
    dist, nearest = torch.cdist(points, centres).min(dim=1)
    spread = torch.as_tensor(std, dtype=torch.float64).reshape(-1)
    spread = spread[nearest] if spread.numel() == k and k > 1 else spread.expand_as(dist)
    good = dist <= 3 * spread
    counts = torch.bincount(nearest[good], minlength=k)
    covered = int((counts >= min_fraction * len(points)).sum())
    return ModeCoverage(covered, float(good.double().mean()), tuple(int(c) for c in counts))


def noise_shape(generator: nn.Module) -> tuple[int, ...]:
    """The shape of one noise vector: the generator graph's Input shape, or for a plain
    module the input size of its first Linear layer."""
    code = getattr(generator, "nnstudio_code", None)
    if code is not None and code.inputs:
        return tuple(code.input_shapes[code.inputs[0][1]])
    for module in generator.modules():
        if isinstance(module, nn.Linear):
            return (module.in_features,)
    raise TrainingError("Cannot tell the size of the generator's noise: start the generator "
                        "graph with an Input of the noise shape.")


def gan_samples(model: nn.Module, n: int, *, seed: int = 0) -> torch.Tensor:
    """``n`` examples from the generator on seeded noise (eval mode), on the CPU."""
    generator = model["generator"]
    device = next(generator.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((n, *noise_shape(generator)), generator=gen).to(device)
    with eval_mode(generator), torch.no_grad():
        return ordered_outputs(generator, generator(z))[0].float().cpu()


def _two_graphs(model: nn.Module) -> bool:
    return isinstance(model, nn.ModuleDict) and "generator" in model and "discriminator" in model


@register_recipe
class GANRecipe(Recipe):
    """Generator against discriminator, alternating updates (see the module docstring).

    Validation reports ``loss_d``, ``loss_g`` (on the split's real examples and as many
    fakes from fixed noise), ``loss`` = their sum, and where the data's classes are its
    modes ``modes_covered`` and ``high_quality`` over ``eval_samples`` fakes.  A GAN's
    losses do not fall steadily as a classifier's do: watch the samples and coverage.
    """

    name = "gan"
    title = "GAN"
    losses = ("auto", "bce")
    requires = (Layout((GENERATOR, DISCRIMINATOR)),)
    metric_modes: ClassVar[dict[str, Mode]] = {
        "loss": "min", "loss_d": "min", "loss_g": "min", "modes_covered": "max",
        "high_quality": "max", "samples_recognised": "max", "classes_covered": "max"}
    eval_samples: ClassVar[int] = 2000

    def __init__(self, config: Any, info: Any) -> None:
        super().__init__(config, info)
        self.noise_shape: tuple[int, ...] = ()
        self.modes: torch.Tensor | None = None  # [K, D] mode centres, when the data has them
        self.mode_std: float = 0.0
        self._parts: list[torch.Tensor] = []
        self._params_g: list[nn.Parameter] = []
        self._params_d: list[nn.Parameter] = []
        self.judge: SampleJudge | None = None
        self._real = torch.zeros(0)
        self._range = (0.0, 1.0)

    # ------------------------------------------------------------ checking
    def setup(self, train: Any, splits: Any) -> None:
        y = train.y
        self._real = train.x[:REAL_POINTS].float().cpu()
        if len(train.x):
            lo, hi = torch.aminmax(train.x.float())
            self._range = (float(lo), float(hi))
        if (self.info.task != "generative" or not self.info.classes or y.dim() != 1
                or y.is_floating_point()):
            self.judge = judge_for(train, self.info)
            return
        x = train.x.float().reshape(len(train.x), -1)
        present = torch.unique(y)
        centres = torch.stack([x[y == k].mean(dim=0) for k in present.tolist()])
        index = torch.searchsorted(present, y)
        # pooled spread of one coordinate around its mode: the σ of the 3σ rule
        self.mode_std = float((x - centres[index]).pow(2).mean().sqrt())
        self.modes = centres

    def noise(self, n: int, device: torch.device | str,
              generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` noise vectors z ~ N(0, 1) for the generator."""
        return torch.randn((n, *self.noise_shape), generator=generator).to(device)

    def sample_output(self, model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if not _two_graphs(model):
            raise TrainingError("The GAN recipe trains two networks, 'generator' and "
                                "'discriminator'; this model is one. Start from the GAN "
                                "template, or add those two graphs to the project.")
        generator, discriminator = model["generator"], model["discriminator"]
        self.noise_shape = noise_shape(generator)
        fake = ordered_outputs(generator, generator(self.noise(len(x), x.device)))[0]
        if tuple(fake.shape[1:]) != tuple(x.shape[1:]):
            raise TrainingError(
                f"The model does not fit the gan task: the generator makes "
                f"{show_shape(tuple(fake.shape))} but the data's examples are "
                f"{show_shape(tuple(x.shape))}: its last layer must give that shape.")
        return {"fake": fake,
                "d_real": ordered_outputs(discriminator, discriminator(x))[0]}

    def prepare(self, model: nn.Module, sample_output: Any) -> list[str]:
        self._params = [p for p in model.parameters() if p.requires_grad]
        self._params_g = [p for p in model["generator"].parameters() if p.requires_grad]
        self._params_d = [p for p in model["discriminator"].parameters() if p.requires_grad]
        if self.loss_name == "auto":
            self.loss_name = "bce"
        problems = []
        d_real = sample_output["d_real"]
        if not (d_real.dim() == 1 or (d_real.dim() == 2 and d_real.shape[1] == 1)):
            problems.append(f"the discriminator must give one logit per example ([B, 1]); it "
                            f"gives {show_shape(tuple(d_real.shape))}")
        if isinstance(final_module(model["discriminator"]), nn.Sigmoid):
            problems.append("the discriminator ends in Sigmoid, but the GAN recipe uses BCE on "
                            "logits (the numerically safe form): remove the Sigmoid")
        if isinstance(model, GraphSet):
            # what the activation view runs: the discriminator on real data, the
            # generator on fresh noise
            model.composer = lambda graphs, x: (graphs["discriminator"](x),
                                                graphs["generator"](self.noise(len(x), x.device)))
        return problems

    def build_optimizer(self, model: nn.Module, params: list[nn.Parameter]) -> OptimizerSet:
        from nnstudio.train.optim import build_optimizer  # optim -> config -> recipes

        c = self.config
        betas = GAN_BETAS if c.optimizer in ("adam", "adamw") else None
        chosen = {id(p) for p in params}
        optimizers = {}
        for role in ("generator", "discriminator"):
            own = [p for p in model[role].parameters() if id(p) in chosen]
            if not own:
                raise TrainingError(f"The {role} has no trainable parameters (all are frozen).")
            lr = (c.lr_d or c.lr) if role == "discriminator" else c.lr
            optimizers[role] = build_optimizer(own, c, lr=lr, betas=betas)
        return OptimizerSet(optimizers)

    # ------------------------------------------------------------ training
    def start_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        self._parts = []

    def _d_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor, reduction: str = "mean"
                ) -> torch.Tensor:
        real = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real), reduction=reduction)
        fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake), reduction=reduction)
        return real + fake

    def _g_loss(self, d_fake: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        # non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z)))
        return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake), reduction=reduction)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Both networks' losses summed, on ``batch`` (no update; see :meth:`train_step`)."""
        x = batch[0]
        generator, discriminator = model["generator"], model["discriminator"]
        fake = ordered_outputs(generator, generator(self.noise(len(x), x.device)))[0]
        d_fake = discriminator(fake)
        loss = self._d_loss(discriminator(x), d_fake) + self._g_loss(d_fake)
        return loss, fake, x

    def train_step(self, model: nn.Module, batch: Batch,
                   optimizer: torch.optim.Optimizer) -> torch.Tensor:
        x = batch[0]
        generator, discriminator = model["generator"], model["discriminator"]
        fake = ordered_outputs(generator, generator(self.noise(len(x), x.device)))[0]
        # 1. the discriminator: real -> 1, fake -> 0; the fake is detached, G stays put
        loss_d = self._d_loss(discriminator(x), discriminator(fake.detach()))
        optimizer.zero_grad(set_to_none=True, role="discriminator")
        loss_d.backward()
        if self._clip > 0:
            torch.nn.utils.clip_grad_norm_(self._params_d, self._clip)
        optimizer.step(role="discriminator")
        # 2. the generator, through the updated discriminator, whose weights take no
        # gradient here (cheaper, and its gradient view keeps its own step's values)
        for p in self._params_d:
            p.requires_grad_(False)
        try:
            loss_g = self._g_loss(discriminator(fake))
            optimizer.zero_grad(set_to_none=True, role="generator")
            loss_g.backward()
        finally:
            for p in self._params_d:
                p.requires_grad_(True)
        if self._clip > 0:
            torch.nn.utils.clip_grad_norm_(self._params_g, self._clip)
        optimizer.step(role="generator")
        parts = torch.stack([loss_d.detach(), loss_g.detach()])
        self._parts.append(parts)
        return parts.sum()

    def end_epoch(self) -> dict[str, float]:
        if not self._parts:
            return {}
        loss_d, loss_g = torch.stack(self._parts).double().mean(dim=0).tolist()
        self._parts = []
        return {"loss_d": loss_d, "loss_g": loss_g}

    # ---------------------------------------------------------- evaluation
    def evaluate(self, model: nn.Module, split: Any, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})
        generator, discriminator = model["generator"], model["discriminator"]
        device = split.x.device
        gen = torch.Generator().manual_seed(self.config.seed)  # the same fakes every epoch
        sums = []
        with eval_mode(model), torch.no_grad():
            for i in range(0, n, batch_size):
                x = split.x[i:i + batch_size]
                fake = ordered_outputs(generator, generator(self.noise(len(x), device, gen)))[0]
                d_fake = discriminator(fake)
                sums.append(torch.stack([self._d_loss(discriminator(x), d_fake, "sum"),
                                         self._g_loss(d_fake, "sum")]))
            loss_d, loss_g = (torch.stack(sums).double().sum(dim=0) / n).cpu().tolist()
            metrics = {"loss": loss_d + loss_g, "loss_d": loss_d, "loss_g": loss_g}
            if self.modes is not None:
                z = self.noise(self.eval_samples, device, gen)
                points = ordered_outputs(generator, generator(z))[0]
                cover = mode_coverage(points, self.modes, self.mode_std)
                metrics.update(modes_covered=float(cover.modes_covered),
                               high_quality=cover.high_quality)
        if self.judge is not None:
            verdict = self.judge.judge(gan_samples(model, self.eval_samples,
                                                   seed=self.config.seed))
            metrics.update(samples_recognised=verdict.recognised,
                           classes_covered=float(verdict.classes_covered))
        return Evaluation(metrics)

    def preview(self, model: nn.Module, source: Any, step: int, epoch: int) -> list[Preview]:
        """Generated points over the data (2-D examples), or a 6 x 6 grid of generated
        images; both from the same fixed noise every time."""
        example = tuple(source.x.shape[1:])
        if example == (2,):
            fake = gan_samples(model, REAL_POINTS, seed=self.config.seed)
            return [points_preview(self._real, fake)]
        fake = gan_samples(model, GRID_SIDE * GRID_SIDE, seed=self.config.seed)
        captions = judged_captions(self.judge, fake, self.info.classes)
        note = "the same 36 noise vectors every time"
        if captions is not None:
            note += "; caption: the class it is recognised as, ? if none"
        lo, hi = self._range
        shown = samples_preview(fake, example, lo, hi, "Generated samples", captions,
                                note=note)
        return [shown] if shown is not None else []

    def samples(self, model: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` generated examples from seeded noise, on the CPU (for a live view)."""
        return gan_samples(model, n, seed=seed)
