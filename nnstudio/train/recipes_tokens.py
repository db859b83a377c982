"""Recipes that predict a token at every position of a sequence.

The model maps token ids x [B, T] to scores (logits) [B, T, V] over the
vocabulary ``info.classes``; targets are ids y [B, T]; the loss is the cross
entropy averaged over every position.

- ``next_token``: character-level language modelling (y is x shifted by one):
  reports the loss in nats per character, ``perplexity`` = e^loss and
  ``bits_per_char``; :func:`sample_text` generates text with a temperature.  The
  model must read left to right: before training, the recipe checks that changing
  the last character changes no earlier prediction (self-attention without a causal
  mask, or a bidirectional RNN, would let each position see its own answer).
- ``seq2seq_tokens``: one output token per input position (reverse or sort a
  sequence, for the Transformer): reports token ``accuracy`` and
  ``sequence_accuracy``, the share of sequences with every position right.
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
from nnstudio.train.recipes import (
    Batch,
    Evaluation,
    Mode,
    Recipe,
    final_module,
    register_recipe,
    show_shape,
)
from nnstudio.train.requirements import one_graph


class _PerPosition(Recipe):
    """Cross entropy at every position; subclasses choose the metrics they report."""

    losses = ("auto", "cross_entropy")
    requires = (one_graph("scores"),)

    def __init__(self, config: Any, info: Any) -> None:
        super().__init__(config, info)
        self.length: int | None = None  # target positions per example

    @property
    def vocab_size(self) -> int:
        return self.info.n_classes

    def setup(self, train: Any, splits: Any) -> None:
        if train.y.dim() != 2:
            raise TrainingError(
                f"The {self.display_name()} recipe needs a target token at every position "
                f"([N, T]); this data set gives targets {show_shape(tuple(train.y.shape))}: "
                "use the classification recipe for one label per example.")
        self.length = int(train.y.shape[1])

    def prepare_targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.long()

    def check(self, output_shape: Sequence[int | None]) -> list[str]:
        v, t, shown = self.vocab_size, self.length, show_shape(output_shape)
        if len(output_shape) == 3 and output_shape[2] == v and (t is None or output_shape[1] == t):
            return []
        want = f"[B, {t if t is not None else 'T'}, {v}]"
        problem = (f"the {self.display_name()} recipe needs a score for each of the {v} tokens "
                   f"at every position ({want}); the model gives {shown}")
        if len(output_shape) == 2 and output_shape[1] == v:
            problem += (" — it scores one position only: set the recurrent layer's output "
                        "to 'sequence'")
        return [problem]

    def prepare(self, model: nn.Module, sample_output: torch.Tensor) -> list[str]:
        if self.loss_name == "auto":
            self.loss_name = "cross_entropy"
        problems = super().prepare(model, sample_output)
        if isinstance(final_module(model), (nn.Softmax, nn.LogSoftmax)):
            problems.append("the model ends in Softmax, but the loss needs raw scores (logits): "
                            "remove that last layer")
        return problems

    def _loss_value(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), reduction=reduction)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y = batch[0], batch[1]
        out = model(x)
        return self._loss_value(out, y), out, y

    def _totals(self, model: nn.Module, split: Any, batch_size: int) -> tuple[float, float, float]:
        """(summed cross entropy, right tokens, right sequences) over ``split``."""
        sums = []
        with eval_mode(model), torch.no_grad():
            for i in range(0, len(split), batch_size):
                x, y = split.x[i:i + batch_size], split.y[i:i + batch_size]
                out = model(x)
                right = out.argmax(dim=-1) == y
                sums.append(torch.stack([self._loss_value(out, y, "sum").double(),
                                         right.sum().double(),
                                         right.all(dim=1).sum().double()]))
        loss, tokens, sequences = torch.stack(sums).sum(dim=0).cpu().tolist()
        return loss, tokens, sequences


@register_recipe
class NextTokenRecipe(_PerPosition):
    """Character-level language modelling (see the module docstring)."""

    name = "next_token"
    title = "next-token"
    metric_modes: ClassVar[dict[str, Mode]] = {
        "loss": "min", "perplexity": "min", "bits_per_char": "min", "accuracy": "max"}

    def sample_output(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        out = super().sample_output(model, x)
        self._peeks = False
        if out.dim() == 3 and x.dim() == 2 and x.shape[1] > 1 and out.shape[1] == x.shape[1]:
            changed = x.clone()
            changed[:, -1] = (changed[:, -1] + 1) % max(1, self.vocab_size)
            again = model(changed)
            self._peeks = not torch.allclose(out[:, :-1], again[:, :-1], atol=1e-5, rtol=1e-4)
        return out

    def prepare(self, model: nn.Module, sample_output: torch.Tensor) -> list[str]:
        problems = super().prepare(model, sample_output)
        if getattr(self, "_peeks", False):
            problems.append(
                "the model lets earlier positions see later characters (changing the last "
                "character changed earlier predictions), so it would learn to copy the answer: "
                "use left-to-right layers (LSTM, GRU, RNN, not bidirectional) — self-attention "
                "here has no causal mask")
        return problems

    def evaluate(self, model: nn.Module, split: Any, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})
        loss, tokens, _ = self._totals(model, split, batch_size)
        count = split.y.numel()
        nats = loss / count
        return Evaluation({"loss": nats, "perplexity": math.exp(min(nats, 700.0)),
                           "bits_per_char": nats / math.log(2), "accuracy": tokens / count})

    def sample(self, model: nn.Module, prompt: str, n_chars: int, temperature: float = 1.0,
               seed: int = 0) -> str:
        """:func:`sample_text` with this data set's vocabulary and sequence length."""
        return sample_text(model, self.info.classes, prompt, n_chars, temperature=temperature,
                           seed=seed, context=self.length)


@register_recipe
class Seq2SeqTokensRecipe(_PerPosition):
    """One output token per input position (see the module docstring)."""

    name = "seq2seq_tokens"
    title = "sequence-to-sequence"
    metric_modes: ClassVar[dict[str, Mode]] = {
        "loss": "min", "perplexity": "min", "accuracy": "max", "sequence_accuracy": "max"}

    def evaluate(self, model: nn.Module, split: Any, batch_size: int) -> Evaluation:
        n = len(split)
        if n == 0:
            return Evaluation({})
        loss, tokens, sequences = self._totals(model, split, batch_size)
        nats = loss / split.y.numel()
        return Evaluation({"loss": nats, "perplexity": math.exp(min(nats, 700.0)),
                           "accuracy": tokens / split.y.numel(), "sequence_accuracy": sequences / n})


def sample_text(model: nn.Module, vocab: Sequence[str], prompt: str, n_chars: int, *,
                temperature: float = 1.0, seed: int = 0, context: int | None = None) -> str:
    """``prompt`` followed by ``n_chars`` characters the model generates one at a time.

    Each step feeds the last ``context`` ids (default: the graph's Input length, else
    all) and draws the next character from softmax(logits / ``temperature``) of the
    last position, with a generator seeded by ``seed``: the same seed gives the same
    text.  ``temperature`` 0 always takes the most likely character; small values
    approach that, large ones approach uniform.  An empty prompt starts from a
    character drawn uniformly (it is the first of the ``n_chars``).
    """
    if temperature < 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be 0 or more, not {temperature!r}")
    if n_chars < 0:
        raise ValueError(f"n_chars must be 0 or more, not {n_chars!r}")
    index = {ch: i for i, ch in enumerate(vocab)}
    unknown = sorted(set(prompt) - set(index))
    if unknown:
        raise ValueError(f"the prompt has characters the model does not know: "
                         f"{''.join(unknown)!r}")
    if context is None:
        code = getattr(model, "nnstudio_code", None)
        if code is not None and code.inputs:
            context = int(code.input_shapes[code.inputs[0][1]][0])
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    ids = [index[ch] for ch in prompt]
    todo = n_chars
    if not ids and todo:
        ids.append(int(torch.randint(len(vocab), (1,), generator=gen)))
        todo -= 1
    with eval_mode(model), torch.no_grad():
        for _ in range(todo):
            window = ids[-context:] if context else ids
            logits = model(torch.tensor([window], dtype=torch.int64, device=device))[0, -1]
            logits = logits.double().cpu()
            if temperature == 0:
                ids.append(int(logits.argmax()))
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                ids.append(int(torch.multinomial(probs, 1, generator=gen)))
    return "".join(vocab[i] for i in ids)
