"""Recipes that learn to reproduce their input: the autoencoder and the VAE.

``reconstruction`` trains one graph whose output is compared with its input (it may
also return its bottleneck code, for a latent scatter).  ``vae`` trains either

- two graphs, ``encoder`` (an example -> ``mu``, ``logvar``) and ``decoder`` (a code
  ``z`` -> a reconstruction), composed by the recipe as
  ``decoder(mu + exp(logvar / 2) * eps)`` — the layout of the VAE template, because
  sampling new examples is then simply ``decoder(randn)`` and each network is its
  own generated class; or
- one graph returning ``(reconstruction, mu, logvar)`` with a Reparameterize layer
  inside: it trains the same, but cannot sample (its decoder is not a graph of its own).

In eval mode the code is ``z = mu`` in both layouts, as the Reparameterize layer does.
Both report how much better than "predict the mean training image" the model
reconstructs: ``baseline_ratio`` = MSE of the mean image / MSE of the model.  A VAE
drawn as two graphs on data with classes also reports how many of its samples
decoded from the prior look like real examples (``samples_recognised``, see
:mod:`nnstudio.train.sample_judge`) and of how many classes (``classes_covered``).

Live view (:meth:`preview`): inputs above their reconstructions; for a VAE also the
latent means of validation examples coloured by class, and examples decoded from the
latent space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.errors import TrainingError
from nnstudio.train.generative_previews import (
    class_labels,
    judged_captions,
    latent_grid,
    latent_preview,
    reconstruction_preview,
    samples_preview,
)
from nnstudio.train.graph_set import GraphSet
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
from nnstudio.train.requirements import GraphRole, Layout, one_graph, ordered_outputs
from nnstudio.train.sample_judge import SampleJudge, judge_for

LATENT_EXAMPLES = 500  # validation examples drawn in the latent scatter
JUDGED_SAMPLES = 1000  # prior samples judged at each evaluation


def kl_warmup_factor(epochs_done: float, warmup_epochs: int) -> float:
    """The share of the KL weight in force after ``epochs_done`` (fractional) epochs.

    Linear warm-up from 0 to 1 over ``warmup_epochs`` (Bowman et al. 2016; Sønderby et
    al. 2016): early on the VAE learns to reconstruct before the KL term pulls every
    code towards the prior.  0 warm-up epochs: always 1.
    """
    if warmup_epochs <= 0:
        return 1.0
    return min(1.0, max(0.0, epochs_done / warmup_epochs))


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) of each example, summed over the code: [B]."""
    terms = 1 + logvar - mu.pow(2) - logvar.exp()
    return -0.5 * terms.reshape(terms.shape[0], -1).sum(dim=1)


def _per_example(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1).sum(dim=1)


class _Reproduces(Recipe):
    """What both recipes share: targets are the inputs; the mean-image baseline."""

    losses = ("auto", "mse", "bce")

    def setup(self, train: Any, splits: Any) -> None:
        x = train.x.float()
        self._example = tuple(x.shape[1:])
        self._mean_image = x.mean(dim=0, keepdim=True)
        lo, hi = torch.aminmax(x)
        self._lo, self._hi = float(lo), float(hi)
        # examples for the latent scatter: more than the 64 of the preview probe
        shown = splits.val if len(splits.val) else splits.train
        self._shown_x = shown.x[:LATENT_EXAMPLES].to(x.device).float()
        self._shown_y = shown.y[:LATENT_EXAMPLES]
        if self.loss_name == "bce" and not self._unit_range():
            raise TrainingError(
                f"The bce loss needs inputs in [0, 1] (pixel intensities); this data set's "
                f"inputs run from {self._lo:.3g} to {self._hi:.3g}: load it with normalise "
                "off, or use the mse loss.")

    def _unit_range(self) -> bool:
        return self._lo >= 0.0 and self._hi <= 1.0

    def _shape_problem(self, recon: torch.Tensor) -> str | None:
        want = math.prod(self._example)
        got = math.prod(recon.shape[1:])
        if got == want:
            return None
        dims = "×".join(map(str, self._example))
        return (f"the reconstruction must have as many values as an example ({want} = {dims}, "
                f"e.g. {show_shape((0, *self._example))} or [B, {want}]); the model gives "
                f"{show_shape(tuple(recon.shape))}")

    def _sigmoid_problem(self, decoder: nn.Module) -> str | None:
        if self.loss_name == "bce" and isinstance(final_module(decoder), nn.Sigmoid):
            return ("the model ends in Sigmoid but the bce loss expects logits: remove the "
                    "Sigmoid (more stable) or use the mse loss")
        return None

    def to_data(self, out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Raw reconstruction outputs in the data's units and shape (sigmoid for bce)."""
        out = out.reshape(like.shape)
        return torch.sigmoid(out) if self.loss_name == "bce" else out

    def _recon_terms(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss of each example, summed over its values: [B]."""
        out = out.reshape(x.shape)
        if self.loss_name == "bce":
            return _per_example(F.binary_cross_entropy_with_logits(out, x, reduction="none"))
        return _per_example((out - x).pow(2))

    def _baseline_sum(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self._mean_image).pow(2).sum()

    def _labels(self, y: torch.Tensor) -> list[str] | None:
        return class_labels(y, self.info.classes)

    def _reconstructions(self, x: torch.Tensor, recon: torch.Tensor, y: torch.Tensor
                         ) -> list[Preview]:
        shown = reconstruction_preview(x, self.to_data(recon, x), self._example, self._lo,
                                       self._hi, self._labels(y[:len(x)]))
        return [shown] if shown is not None else []


# --------------------------------------------------------------- autoencoder
@register_recipe
class ReconstructionRecipe(_Reproduces):
    """Reproduce the input: mse (default) or bce with logits, mean over values.

    The graph returns the reconstruction, flat ([B, 64]) or shaped like the input
    ([B, 1, 8, 8]), and may return its bottleneck code second (for a latent scatter).
    """

    name = "reconstruction"
    requires = (one_graph("reconstruction", optional=("code",)),)
    metric_modes: ClassVar[dict[str, Mode]] = {
        "loss": "min", "mse": "min", "baseline_mse": "min", "baseline_ratio": "max"}

    def sample_output(self, model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return ordered_outputs(model, model(x))

    def prepare(self, model: nn.Module, sample_output: Any) -> list[str]:
        self._params = [p for p in model.parameters() if p.requires_grad]
        if self.loss_name == "auto":
            self.loss_name = "mse"
        if not 1 <= len(sample_output) <= 2:
            return [(f"the model must return the reconstruction (and optionally its code); "
                     f"it returns {len(sample_output)} values")]
        self._has_code = len(sample_output) == 2
        problems = [self._shape_problem(sample_output[0]), self._sigmoid_problem(model)]
        return [p for p in problems if p]

    def _reconstruct(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return ordered_outputs(model, model(x))[0]

    def _loss_value(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        out = out.reshape(x.shape)
        if self.loss_name == "bce":
            return F.binary_cross_entropy_with_logits(out, x)
        return F.mse_loss(out, x)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = batch[0]
        out = self._reconstruct(model, x)
        return self._loss_value(out, x), out, x

    def reconstruct(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Reconstructions of ``x`` in the data's units and shape (eval mode, CPU)."""
        with eval_mode(model), torch.no_grad():
            return self.to_data(self._reconstruct(model, x), x).cpu()

    def preview(self, model: nn.Module, source: Any, step: int, epoch: int) -> list[Preview]:
        """Inputs above their reconstructions; the codes too when the graph returns them."""
        x = source.x[:8].float()
        previews = self._reconstructions(x, self._reconstruct(model, x), source.y)
        if self._has_code:
            shown = latent_preview(latent_codes(model, self._shown_x), self._shown_y,
                                   "Codes")
            previews += [shown] if shown is not None else []
        return previews

    def evaluate(self, model: nn.Module, split: Any, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})

        def terms(x):
            out = self._reconstruct(model, x)
            return [self._recon_terms(out, x).sum(), (self.to_data(out, x) - x).pow(2).sum(),
                    self._baseline_sum(x)]

        loss, sq, base = _batched_sums(model, split, batch_size, terms)
        values = n * math.prod(split.x.shape[1:])
        mse, base_mse = sq / values, base / values
        return Evaluation({"loss": loss / values, "mse": mse, "baseline_mse": base_mse,
                           "baseline_ratio": _ratio(base_mse, mse)})


def _batched_sums(model: nn.Module, split: Any, batch_size: int, terms) -> list[float]:
    """Sum, over ``split`` in batches (eval mode, no grad), the scalars ``terms(x)`` returns."""
    sums = []
    with eval_mode(model), torch.no_grad():
        for i in range(0, len(split), batch_size):
            sums.append(torch.stack(terms(split.x[i:i + batch_size].float())))
    return torch.stack(sums).double().sum(dim=0).cpu().tolist()


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.inf


# ----------------------------------------------------------------------- VAE
ENCODER = GraphRole("encoder", ("mu", "logvar"), "data",
                    "an example → mu and logvar of its latent code")
DECODER = GraphRole("decoder", ("reconstruction",), "latent", "a latent code z → an example")


def _two_graphs(model: nn.Module) -> bool:
    return isinstance(model, nn.ModuleDict) and "encoder" in model and "decoder" in model


@register_recipe
class VAERecipe(_Reproduces):
    """Variational autoencoder: reconstruction + β·KL, with a linear KL warm-up.

    Per example, the reconstruction term is summed over values (bce with logits for
    inputs in [0, 1], else squared error) and the KL of N(mu, σ²) from N(0, 1) summed
    over the code; both are averaged over the batch.  ``loss="auto"`` picks bce when
    the training inputs all lie in [0, 1] and the decoder does not end in Sigmoid.
    The training loss weighs KL by ``kl_weight`` × the warm-up factor; validation
    reports the full ``elbo`` = -(recon + kl) (nats per example; for mse, up to a
    constant) and ``loss`` = recon + kl_weight·kl.
    """

    name = "vae"
    title = "VAE"
    requires = (Layout((ENCODER, DECODER)), one_graph("reconstruction", "mu", "logvar"))
    metric_modes: ClassVar[dict[str, Mode]] = {
        "loss": "min", "elbo": "max", "recon": "min", "kl": "min", "mse": "min",
        "baseline_mse": "min", "baseline_ratio": "max", "samples_recognised": "max",
        "classes_covered": "max"}

    def __init__(self, config: Any, info: Any) -> None:
        super().__init__(config, info)
        self.latent_shape: tuple[int, ...] = ()
        self._step = 0
        self._steps_per_epoch = 1
        self._parts: list[torch.Tensor] = []
        self.judge: SampleJudge | None = None

    def setup(self, train: Any, splits: Any) -> None:
        super().setup(train, splits)
        self.judge = judge_for(train, self.info)

    # ------------------------------------------------------------ the model
    def forward(self, model: nn.Module, x: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction, mu, logvar) of ``x``; z is sampled only in training mode."""
        if not _two_graphs(model):
            outs = ordered_outputs(model, model(x))
            if len(outs) != 3:
                raise TrainingError(f"The VAE graph must return (reconstruction, mu, logvar); "
                                    f"it returns {len(outs)} value(s).")
            return outs  # type: ignore[return-value]
        encoder, decoder = model["encoder"], model["decoder"]
        codes = ordered_outputs(encoder, encoder(x))
        if len(codes) != 2:
            raise TrainingError(f"The encoder must return (mu, logvar); it returns "
                                f"{len(codes)} value(s).")
        mu, logvar = codes
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if encoder.training else mu
        return ordered_outputs(decoder, decoder(z))[0], mu, logvar

    def sample_output(self, model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.forward(model, x)

    def prepare(self, model: nn.Module, sample_output: Any) -> list[str]:
        self._params = [p for p in model.parameters() if p.requires_grad]
        recon, mu, logvar = sample_output
        decoder = model["decoder"] if _two_graphs(model) else model
        if self.loss_name == "auto":
            ends_sigmoid = isinstance(final_module(decoder), nn.Sigmoid)
            self.loss_name = "bce" if self._unit_range() and not ends_sigmoid else "mse"
        problems = [self._shape_problem(recon), self._sigmoid_problem(decoder)]
        if mu.shape != logvar.shape:
            problems.append(f"mu and logvar must have the same shape; they are "
                            f"{show_shape(tuple(mu.shape))} and {show_shape(tuple(logvar.shape))}")
        self.latent_shape = tuple(mu.shape[1:])
        if isinstance(model, GraphSet):
            model.composer = lambda graphs, x: self.forward(graphs, x)[0]
        return [p for p in problems if p]

    def _terms(self, model: nn.Module, x: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-example reconstruction and KL terms [B], and the reconstruction."""
        recon, mu, logvar = self.forward(model, x)
        return self._recon_terms(recon, x), gaussian_kl(mu, logvar), recon

    # ------------------------------------------------------------- training
    def kl_factor(self) -> float:
        """The warm-up share of the KL weight at the current step."""
        return kl_warmup_factor(self._step / self._steps_per_epoch, self.config.kl_warmup_epochs)

    def start_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        self._steps_per_epoch = max(1, steps_per_epoch)
        self._step = (epoch - 1) * self._steps_per_epoch  # resumable: a function of the epoch
        self._parts = []

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = batch[0]
        recon, kl, out = self._terms(model, x)
        beta = self.config.kl_weight * self.kl_factor()
        return recon.mean() + beta * kl.mean(), out, x

    def train_step(self, model: nn.Module, batch: Batch,
                   optimizer: torch.optim.Optimizer) -> torch.Tensor:
        x = batch[0]
        optimizer.zero_grad(set_to_none=True)
        recon, kl, _ = self._terms(model, x)
        recon, kl = recon.mean(), kl.mean()
        loss = recon + (self.config.kl_weight * self.kl_factor()) * kl
        loss.backward()
        if self._clip > 0:
            torch.nn.utils.clip_grad_norm_(self._params, self._clip)
        optimizer.step()
        self._step += 1
        self._parts.append(torch.stack([recon.detach(), kl.detach()]))
        return loss

    def end_epoch(self) -> dict[str, float]:
        if not self._parts:
            return {}
        recon, kl = torch.stack(self._parts).double().mean(dim=0).tolist()
        self._parts = []
        return {"recon": recon, "kl": kl, "kl_factor": self.kl_factor()}

    def evaluate(self, model: nn.Module, split: Any, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})

        def terms(x):
            recon, kl, out = self._terms(model, x)
            return [recon.sum(), kl.sum(), (self.to_data(out, x) - x).pow(2).sum(),
                    self._baseline_sum(x)]

        recon_s, kl_s, sq, base = _batched_sums(model, split, batch_size, terms)
        values = n * math.prod(split.x.shape[1:])
        recon, kl = recon_s / n, kl_s / n
        mse, base_mse = sq / values, base / values
        metrics = {"loss": recon + self.config.kl_weight * kl, "elbo": -(recon + kl),
                   "recon": recon, "kl": kl, "mse": mse, "baseline_mse": base_mse,
                   "baseline_ratio": _ratio(base_mse, mse)}
        if self.judge is not None and _two_graphs(model):
            verdict = self.judge.judge(self.sample_images(model, JUDGED_SAMPLES,
                                                          seed=self.config.seed))
            metrics.update(samples_recognised=verdict.recognised,
                           classes_covered=float(verdict.classes_covered))
        return Evaluation(metrics)

    # ----------------------------------------------------- for the UI
    def reconstruct(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Reconstructions of ``x`` (z = mu) in the data's units and shape, on the CPU."""
        with eval_mode(model), torch.no_grad():
            return self.to_data(self.forward(model, x)[0], x).cpu()

    def sample_images(self, model: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` new examples decoded from z ~ N(0, 1), in the data's units (CPU)."""
        return sample_images(model, n, seed=seed, latent_shape=self.latent_shape or None,
                             probabilities=self.loss_name == "bce",
                             example_shape=getattr(self, "_example", None))

    def preview(self, model: nn.Module, source: Any, step: int, epoch: int) -> list[Preview]:
        """Reconstructions (z = mu), the latent means of validation examples coloured by
        class, and examples decoded from the latent space: for a 2-D code an 8 x 8 grid
        over the plane from -2 to 2, else 36 codes drawn from the prior with a fixed seed
        (the same codes every time, so the learner sees the same samples improve)."""
        x = source.x[:8].float()
        previews = self._reconstructions(x, self.forward(model, x)[0], source.y)
        if _two_graphs(model):
            mu = ordered_outputs(model["encoder"], model["encoder"](self._shown_x))[0]
        else:
            mu = self.forward(model, self._shown_x)[1]
        previews.append(latent_preview(mu, self._shown_y))
        if not _two_graphs(model):
            return [p for p in previews if p is not None]
        if self.latent_shape == (2,):
            z, columns = latent_grid(8), 8
            note = "decoded from a regular grid over the latent plane, z1 and z2 from -2 to 2"
        else:
            gen = torch.Generator().manual_seed(self.config.seed)
            z, columns = torch.randn((36, *self.latent_shape), generator=gen), 6
            note = "decoded from 36 fixed codes drawn from the prior N(0, 1)"
        samples = decode_codes(model, z, probabilities=self.loss_name == "bce",
                               example_shape=self._example)
        captions = judged_captions(self.judge, samples, self.info.classes)
        if captions is not None:
            note += "; caption: the class it is recognised as, ? if none"
        previews.append(samples_preview(samples, self._example, self._lo, self._hi, "Samples",
                                        captions, columns, note))
        return [p for p in previews if p is not None]


def latent_codes(model: nn.Module, x: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """The code of each example of ``x``, flat [N, d] on the CPU, for a latent scatter.

    A VAE gives ``mu`` (its encoder's first output, or the single graph's second); an
    autoencoder graph that also returns its code gives that code.
    """
    chunks = []
    with eval_mode(model), torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            if _two_graphs(model):
                code = ordered_outputs(model["encoder"], model["encoder"](xb))[0]
            else:
                outs = ordered_outputs(model, model(xb))
                if len(outs) < 2:
                    raise TrainingError("This model returns no latent code: return the code "
                                        "as a second output (autoencoder) or train a VAE.")
                code = outs[1]
            chunks.append(code.reshape(code.shape[0], -1).float().cpu())
    return torch.cat(chunks) if chunks else torch.zeros(0, 0)


def sample_images(model: nn.Module, n: int, *, seed: int = 0,
                  latent_shape: Sequence[int] | None = None, probabilities: bool = True,
                  example_shape: Sequence[int] | None = None) -> torch.Tensor:
    """Decode ``n`` codes z ~ N(0, 1) with the VAE's ``decoder`` graph (eval mode, CPU).

    ``latent_shape`` defaults to the decoder graph's Input shape; ``probabilities``
    applies a sigmoid (decoders trained with bce return logits); ``example_shape``
    reshapes flat outputs (e.g. to (1, 8, 8)).  The same ``seed`` draws the same codes.
    """
    if not _two_graphs(model):
        raise TrainingError("Sampling needs the decoder as a graph of its own: draw the VAE as "
                            "two graphs, 'encoder' and 'decoder' (as the VAE template does).")
    decoder = model["decoder"]
    if latent_shape is None:
        code = getattr(decoder, "nnstudio_code", None)
        if code is None:
            raise TrainingError("The size of the latent code is unknown: pass latent_shape.")
        latent_shape = code.input_shapes[code.inputs[0][1]]
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((n, *latent_shape), generator=gen)
    return decode_codes(model, z, probabilities=probabilities, example_shape=example_shape)


def decode_codes(model: nn.Module, z: torch.Tensor, *, probabilities: bool = True,
                 example_shape: Sequence[int] | None = None) -> torch.Tensor:
    """The VAE's ``decoder`` graph on codes ``z`` (eval mode, no grad), on the CPU;
    ``probabilities`` and ``example_shape`` as for :func:`sample_images`."""
    decoder = model["decoder"]
    z = z.to(next(decoder.parameters()).device)
    with eval_mode(decoder), torch.no_grad():
        out = ordered_outputs(decoder, decoder(z))[0]
    out = torch.sigmoid(out) if probabilities else out
    if example_shape is not None:
        out = out.reshape(len(z), *example_shape)
    return out.float().cpu()
