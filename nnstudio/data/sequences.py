"""Generated sequence tasks for the recurrent and attention stages.

- ``sequence-reverse`` / ``sequence-sort``: x is random token ids [length] from a
  small vocabulary, y the same sequence reversed / sorted ascending: one output
  token per position (the ``seq2seq_tokens`` recipe; the Transformer template).
  Ids are int64 and never normalised.
- ``sequence-classify``: x is a noisy sine wave [length, 1] of random amplitude and
  phase, y the band its frequency was drawn from, slowest first (classification;
  the GRU template).
"""

from __future__ import annotations

import numpy as np
import torch

from nnstudio.data.base import DatasetInfo, DatasetSplits, Split
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import build_splits, fingerprint, split_indices

# wave frequencies in cycles per step: from a period of 40 steps to one of 4
_LOWEST, _HIGHEST = 1 / 40, 1 / 4


def make_token_task(n: int, length: int, vocab: int, task: str, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random id sequences and their reversed ("reverse") or sorted ("sort") form."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, (n, length), dtype=np.int64)
    y = x[:, ::-1] if task == "reverse" else np.sort(x, axis=1)
    return x, np.ascontiguousarray(y)


def frequency_bands(n_classes: int) -> np.ndarray:
    """Edges (n_classes + 1) of equal bands on a log scale of frequency."""
    return np.geomspace(_LOWEST, _HIGHEST, n_classes + 1)


def make_waves(n: int, length: int, n_classes: int, noise: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sines [n, length, 1] and the frequency band of each, 0 = slowest."""
    rng = np.random.default_rng(seed)
    edges = frequency_bands(n_classes)
    labels = rng.integers(0, n_classes, n)
    # the middle 80% of each band on the log scale: neighbouring bands stay apart
    lo, hi = np.log(edges[labels]), np.log(edges[labels + 1])
    width = hi - lo
    freq = np.exp(rng.uniform(lo + 0.1 * width, hi - 0.1 * width))
    phase = rng.uniform(0, 2 * np.pi, n)
    amplitude = rng.uniform(0.5, 1.5, n)
    t = np.arange(length)
    waves = amplitude[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    waves += rng.normal(0.0, noise, waves.shape)
    return waves[:, :, None].astype(np.float32), labels.astype(np.int64)


def _load_tokens(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    task = request.name.removeprefix("sequence-")
    request.progress(0, 1, f"generating {request.name}")
    x, y = make_token_task(opts["n_samples"], opts["length"], opts["vocab"], task, request.seed)
    parts = split_indices(len(x), seed=request.seed, val_fraction=request.val_fraction,
                          test_fraction=request.test_fraction)
    train, val, test = (Split(torch.from_numpy(x[p]), torch.from_numpy(y[p])) for p in parts)
    what = "reversed" if task == "reverse" else "sorted ascending"
    info = DatasetInfo(
        name=request.name,
        task="sequence",
        input_shape=(opts["length"],),
        classes=tuple(str(i) for i in range(opts["vocab"])),
        input_dtype="int64",
        description=(f"{opts['n_samples']} sequences of {opts['length']} tokens from a "
                     f"vocabulary of {opts['vocab']}; output each one {what}."),
        kind="sequence",
    )
    request.progress(1, 1, f"generated {request.name}")
    return DatasetSplits(info, train, val, test, fingerprint=fingerprint(x, y))


def _load_waves(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    k = opts["n_classes"]
    request.progress(0, 1, "generating waves")
    x, y = make_waves(opts["n_samples"], opts["length"], k, opts["noise"], request.seed)
    edges = frequency_bands(k)
    classes = tuple(f"period {1 / edges[i + 1]:.0f}-{1 / edges[i]:.0f}" for i in range(k))
    info = DatasetInfo(
        name=request.name,
        task="classification",
        input_shape=(opts["length"], 1),
        classes=classes,
        feature_names=("value",),
        description=(f"Noisy waves of {opts['length']} steps; tell which of {k} frequency "
                     "bands each comes from."),
        kind="sequence",
    )
    splits = build_splits(info, x, y, seed=request.seed, val_fraction=request.val_fraction,
                          test_fraction=request.test_fraction, normalise=request.normalise)
    request.progress(1, 1, "generated waves")
    return splits


def _token_options(length: int) -> tuple[Option, ...]:
    return (
        Option("n_samples", int, 4000, "number of sequences", minimum=20, maximum=1_000_000),
        Option("length", int, length, "tokens per sequence", minimum=2, maximum=512),
        Option("vocab", int, 10, "number of distinct tokens", minimum=2, maximum=10_000),
    )


_DESCRIPTIONS = {
    "sequence-reverse": "Random token sequences to output reversed: attention learns to look "
                        "across the sequence.",
    "sequence-sort": "Random token sequences to output sorted: every output position depends "
                     "on the whole input.",
    "sequence-classify": "Noisy waves to classify by frequency: a recurrent network reads "
                         "them step by step.",
}

for _name, _title in (("sequence-reverse", "Reverse a sequence"),
                      ("sequence-sort", "Sort a sequence")):
    register(
        DatasetEntry(
            name=_name,
            title=_title,
            description=_DESCRIPTIONS[_name],
            task="sequence",
            kind="sequence",
            loader=_load_tokens,
            options=_token_options(8),
            group="Generated",
        )
    )

register(
    DatasetEntry(
        name="sequence-classify",
        title="Waves by frequency",
        description=_DESCRIPTIONS["sequence-classify"],
        task="classification",
        kind="sequence",
        loader=_load_waves,
        options=(
            Option("n_samples", int, 1200, "number of waves", minimum=20, maximum=1_000_000),
            Option("length", int, 50, "time steps per wave", minimum=8, maximum=10_000),
            Option("n_classes", int, 3, "number of frequency bands", minimum=2, maximum=8),
            Option("noise", float, 0.3, "standard deviation of the added noise",
                   minimum=0.0, maximum=10.0),
        ),
        group="Generated",
    )
)
