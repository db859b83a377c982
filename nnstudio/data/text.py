"""A character-level text corpus for next-character prediction (RNN stage).

By default the text is the English help that ships inside every CPython's standard
library (``pydoc_data.topics``, the pages behind ``help('if')``): a few hundred KB
of prose and code, nothing to download.  The ``path`` option takes a UTF-8 text
file of the person's own instead.

The vocabulary is stored in ``DatasetInfo.classes``; x is int64 ids [seq_len] and
y the ids one character later.  With ``alphabet="text"`` (the default) it is the
sorted set of the text's characters, so its size depends on the text (and, for the
built-in one, on the Python version).  ``alphabet="ascii"`` fixes it at the 98
characters of :data:`ASCII_ALPHABET`, whatever the text: tab, newline, the printable
ASCII characters and U+FFFD for any other character (typographic quotes and dashes
become their ASCII forms first).  A drawn network's Embedding and output sizes then
fit every text, which is what a template that takes "any text file" needs.

The text is cut chronologically into train / validation / test stretches (as a
series is: first, middle, last) and each stretch into examples separately, so no
character is both trained on and tested on.
"""

from __future__ import annotations

import numpy as np
import torch

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits, Split
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import fingerprint


def builtin_text() -> str:
    """Python's own help topics joined in name order: the same text for one Python
    version, whatever the machine."""
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip it; then a file of one's own is needed
        raise DatasetError("this Python has no built-in help text (pydoc_data); choose a "
                           "text file with the 'path' option") from None
    return "\n\n".join(topics[name].strip() for name in sorted(topics))


def read_text(path: str) -> str:
    """The UTF-8 text of ``path`` (undecodable bytes become U+FFFD), or DatasetError."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder; choose a text file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read it ({e.strerror or e})") from None


# tab, newline, printable ASCII (space .. '~'), then the stand-in for everything else
UNKNOWN_CHAR = "\ufffd"
ASCII_ALPHABET: tuple[str, ...] = ("\t", "\n", *map(chr, range(32, 127)), UNKNOWN_CHAR)
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                              "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\r": None})


def to_ascii(text: str) -> str:
    """``text`` in :data:`ASCII_ALPHABET`: curly quotes, dashes and no-break spaces as
    their ASCII forms, carriage returns dropped, any other character U+FFFD."""
    known = frozenset(ASCII_ALPHABET)
    text = text.translate(_TYPOGRAPHIC)
    return "".join(ch if ch in known else UNKNOWN_CHAR for ch in text)


def encode(text: str, vocab: tuple[str, ...]) -> np.ndarray:
    """Character ids of ``text`` (int64) under ``vocab`` (each character's index)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))


def _windows(ids: np.ndarray, seq_len: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(0, len(ids) - seq_len, stride)  # room for the shifted target
    if len(starts) == 0:
        empty = np.zeros((0, seq_len), dtype=np.int64)
        return empty, empty
    rows = starts[:, None] + np.arange(seq_len)[None, :]
    return ids[rows], ids[rows + 1]


def _load_text(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    seq_len, stride = opts["seq_len"], opts["stride"] or opts["seq_len"]
    request.progress(0, 2, "reading text")
    path = opts["path"]
    text = read_text(path) if path else builtin_text()
    text = text[: opts["max_chars"]]
    source = path if path else "Python's built-in help topics"
    if opts["alphabet"] == "ascii":
        text, vocab = to_ascii(text), ASCII_ALPHABET
    else:
        vocab = tuple(sorted(set(text)))
    if len(set(text)) < 2:
        raise DatasetError(f"{source}: the text needs at least two different characters")
    alphabet = f" in an alphabet of {len(vocab)}" if opts["alphabet"] == "ascii" else ""
    request.progress(1, 2, "encoding text")
    ids = encode(text, vocab)
    n = len(ids)
    cut1 = round(n * (1 - request.val_fraction - request.test_fraction))
    cut2 = round(n * (1 - request.test_fraction))
    splits = {}
    for name, (lo, hi) in {"train": (0, cut1), "val": (cut1, cut2), "test": (cut2, n)}.items():
        x, y = _windows(ids[lo:hi], seq_len, stride)
        if name == "train" and len(x) == 0:
            raise DatasetError(
                f"{source}: {n} characters leave too few for training examples of "
                f"{seq_len + 1} characters; use a longer text or a shorter seq_len")
        splits[name] = Split(torch.from_numpy(x), torch.from_numpy(y))
    info = DatasetInfo(
        name=request.name,
        task="sequence",
        input_shape=(seq_len,),
        classes=vocab,
        input_dtype="int64",
        description=(f"{n:,} characters of {source}, {len(set(text))} distinct{alphabet}; "
                     f"predict each next character from the {seq_len} before it."),
        kind="text",
    )
    request.progress(2, 2, "text ready")
    return DatasetSplits(info, splits["train"], splits["val"], splits["test"],
                         fingerprint=fingerprint(ids, np.frombuffer("".join(vocab).encode(), np.uint8)))


register(
    DatasetEntry(
        name="text-chars",
        title="Text, character by character",
        description="Python's own English help text, or a text file of yours: "
        "predict the next character (char-RNN).",
        task="sequence",
        kind="text",
        loader=_load_text,
        options=(
            Option("path", str, "", "a UTF-8 text file of your own (empty: Python's help text)",
                   widget="file"),
            Option("seq_len", int, 64, "characters per example", minimum=2, maximum=4096),
            Option("max_chars", int, 300_000, "use at most this many characters of the text",
                   minimum=100, maximum=100_000_000),
            Option("alphabet", str, "text", "characters the model knows: 'text': those of the "
                   "text; 'ascii': a fixed 98 (printable ASCII, tab, newline, U+FFFD for others)",
                   choices=("text", "ascii")),
            Option("stride", int, 0, "characters between example starts (0: seq_len, no overlap)",
                   minimum=0, maximum=4096),
        ),
        group="Text",
    )
)
