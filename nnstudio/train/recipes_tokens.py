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

Live views (:meth:`Recipe.preview`): ``next_token`` shows text the model writes on
from a validation passage, at temperature :data:`PREVIEW_TEMPERATURE`;
``seq2seq_tokens`` shows a few probe examples with the model's answers and, when the
model has Transformer encoder layers, the attention of every head on the first one.
"""

from __future__ import annotations

import math
import string
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.train._modes import eval_mode
from nnstudio.train.attention_maps import attention_maps
from nnstudio.train.errors import TrainingError
from nnstudio.train.preview import Preview, to_numpy
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

PREVIEW_TEMPERATURE = 0.8
PREVIEW_CHARS = 200  # characters the live view generates
# Sampling is one forward pass per character (hundreds of milliseconds on a CPU):
# the live view draws a new sample only when that keeps it under ~1/10 of the run.
PREVIEW_SHARE = 0.1
PREVIEW_EXAMPLES = 6  # probe examples a seq2seq live view lists


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

    def __init__(self, config: Any, info: Any) -> None:
        super().__init__(config, info)
        self._last_step: int | None = None  # the run's planned last step (live view)
        self._next_sample = 0.0  # perf_counter time before which no new sample is drawn

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

    def start_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        self._last_step = self.config.epochs * steps_per_epoch

    def preview(self, model: nn.Module, source: Any, step: int, epoch: int) -> list[Preview]:
        """~200 characters generated after a probe passage (:func:`prose_prompt`) at
        temperature 0.8.

        The draws are seeded by the run's seed, so from one picture to the next only
        the model changes.  Sampling costs a forward pass per character: a new sample
        is drawn only when the previous one's cost is under a tenth of the time since
        (always at the run's last step); otherwise nothing new is shown.
        """
        if len(source) == 0 or source.x.dim() != 2:
            return []
        now = time.perf_counter()
        if now < self._next_sample and step != self._last_step:
            return []
        prompt = prose_prompt(source.x, self.info.classes)
        gen = torch.Generator().manual_seed(self.config.seed)
        ids = generate_ids(model, prompt, PREVIEW_CHARS, temperature=PREVIEW_TEMPERATURE,
                           generator=gen, context=source.x.shape[1])
        cost = time.perf_counter() - now
        self._next_sample = time.perf_counter() + cost * (1 / PREVIEW_SHARE - 1)
        vocab = self.info.classes
        return [Preview("text", "Generated text", {
            "prompt": "".join(vocab[i] for i in prompt),
            "text": "".join(vocab[i] for i in ids[len(prompt):]),
            "note": (f"temperature {PREVIEW_TEMPERATURE}, step {step}: the model writes on "
                     f"from a validation passage (shown dimmed)"),
        })]

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

    def preview(self, model: nn.Module, source: Any, step: int, epoch: int) -> list[Preview]:
        """The attention maps of the probe's first example (one per head of every
        Transformer encoder layer; rows: the position that looks, columns: the
        position looked at), and the model's answers to the first few examples."""
        n = min(len(source), PREVIEW_EXAMPLES)
        if n == 0:
            return []
        vocab = self.info.classes
        x, y = source.x[:n], source.y[:n]
        predicted = model(x).argmax(dim=-1)
        previews = []
        maps = attention_maps(model, x[:1])
        if maps is not None:
            tokens = [vocab[int(i)] for i in x[0]]
            previews.append(Preview("heatmap", "Attention on the first example", {
                "matrices": to_numpy(maps.weights), "titles": maps.titles,
                "row_labels": tokens, "col_labels": tokens,
                "note": "each row is a position that looks, each column one it looks at"}))
        previews.append(Preview("text", "Answers", {
            "text": answers_table(vocab, x, y, predicted),
            "note": f"the first {n} validation examples at step {step}; ✗ marks a wrong answer"}))
        return previews


def prose_prompt(x: torch.Tensor, vocab: Sequence[str]) -> list[int]:
    """A prompt for the live sample: the first of the passages ``x`` ([N, T] ids) that
    reads as prose (three characters in four are letters, and at most one in four a
    space: not a table or code), else the first passage; it starts after its first
    space, at the start of a word."""
    rows = [[vocab[int(i)] for i in row] for row in x]
    chosen = 0
    for k, row in enumerate(rows):
        letters = sum(ch in string.ascii_letters for ch in row)
        if letters >= 0.75 * len(row) and row.count(" ") <= 0.25 * len(row):
            chosen = k
            break
    ids = [int(i) for i in x[chosen]]
    space = next((k for k, ch in enumerate(rows[chosen][:-1]) if ch == " "), None)
    return ids[space + 1:] if space is not None else ids


def answers_table(vocab: Sequence[str], x: torch.Tensor, y: torch.Tensor,
                  predicted: torch.Tensor) -> str:
    """Input, target and the model's answer of each example, one block each; a wrong
    answer is marked with ✗ and a caret under each wrong token (monospace text)."""
    width = max(len(t) for t in vocab)
    pad = [t.rjust(width) for t in vocab]

    def row(ids: torch.Tensor) -> str:
        return " ".join(pad[int(i)] for i in ids)

    blocks = []
    for xi, yi, pi in zip(x, y, predicted, strict=True):
        wrong = (pi != yi).tolist()
        rows = [f"input   {row(xi)}", f"target  {row(yi)}",
                f"model   {row(pi)}  {'✗' if any(wrong) else '✓'}"]
        if any(wrong):
            rows.append("        " + " ".join(("^" if w else "").rjust(width) for w in wrong).rstrip())
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


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
    gen = torch.Generator().manual_seed(seed)
    ids = [index[ch] for ch in prompt]
    todo = n_chars
    if not ids and todo:
        ids.append(int(torch.randint(len(vocab), (1,), generator=gen)))
        todo -= 1
    ids = generate_ids(model, ids, todo, temperature=temperature, generator=gen, context=context)
    return "".join(vocab[i] for i in ids)


def generate_ids(model: nn.Module, ids: Sequence[int], n: int, *, temperature: float,
                 generator: torch.Generator, context: int | None) -> list[int]:
    """``ids`` (not empty) followed by ``n`` ids drawn one at a time (see
    :func:`sample_text`); runs in eval mode without gradients."""
    device = next(model.parameters()).device
    ids = list(ids)
    with eval_mode(model), torch.no_grad():
        for _ in range(n):
            window = ids[-context:] if context else ids
            logits = model(torch.tensor([window], dtype=torch.int64, device=device))[0, -1]
            logits = logits.double().cpu()
            if temperature == 0:
                ids.append(int(logits.argmax()))
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                ids.append(int(torch.multinomial(probs, 1, generator=generator)))
    return ids
