"""The text corpus and the generated sequence tasks: shapes, dtypes, splits, no download."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, load_dataset
from nnstudio.data.sequences import frequency_bands


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the loader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def decode(ids: torch.Tensor, vocab: tuple[str, ...]) -> str:
    return "".join(vocab[i] for i in ids.tolist())


# ==================================================================== text-chars
def test_the_default_text_ships_with_python_and_needs_no_download(offline: None) -> None:
    splits = load_dataset("text-chars", max_chars=20_000, seq_len=32)
    info = splits.info
    assert info.kind == "text" and info.task == "sequence" and info.input_dtype == "int64"
    assert info.input_shape == (32,)
    assert list(info.classes) == sorted(set(info.classes)) and len(info.classes) > 40
    for part in (splits.train, splits.val, splits.test):
        assert part.x.dtype == part.y.dtype == torch.int64
        assert part.x.shape[1:] == part.y.shape[1:] == (32,)
        assert len(part) > 0
    # y is x one character later
    x, y = splits.train.x[3], splits.train.y[3]
    assert torch.equal(x[1:], y[:-1])
    assert " the " in decode(splits.train.x.flatten(), info.classes)


def test_the_same_options_give_the_same_examples() -> None:
    a = load_dataset("text-chars", max_chars=5000, seq_len=16)
    b = load_dataset("text-chars", max_chars=5000, seq_len=16)
    assert a.fingerprint == b.fingerprint and torch.equal(a.train.x, b.train.x)


def test_a_text_file_of_ones_own_is_split_into_contiguous_stretches(tmp_path: Path) -> None:
    # 600 a's, then 200 b's, then 200 c's: each split must see only its own stretch
    path = tmp_path / "mine.txt"
    path.write_text("a" * 600 + "b" * 200 + "c" * 200, encoding="utf-8")
    splits = load_dataset("text-chars", path=str(path), seq_len=10)
    vocab = splits.info.classes
    assert vocab == ("a", "b", "c")
    for part, letter in ((splits.train, "a"), (splits.val, "b"), (splits.test, "c")):
        seen = set(decode(part.x.flatten(), vocab)) | set(decode(part.y.flatten(), vocab))
        assert seen == {letter}
    assert len(splits.train) == (600 - 1) // 10  # non-overlapping windows by default
    assert str(path) in splits.info.description


def test_stride_overlaps_the_examples(tmp_path: Path) -> None:
    path = tmp_path / "abc.txt"
    path.write_text("abcdefghij" * 50, encoding="utf-8")
    dense = load_dataset("text-chars", path=str(path), seq_len=8, stride=1)
    sparse = load_dataset("text-chars", path=str(path), seq_len=8)
    assert len(dense.train) > 6 * len(sparse.train)
    assert torch.equal(dense.train.x[1][:-1], dense.train.x[0][1:])


def test_a_missing_or_too_short_text_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset("text-chars", path=str(tmp_path / "nothing.txt"))
    short = tmp_path / "short.txt"
    short.write_text("hello world", encoding="utf-8")
    with pytest.raises(DatasetError, match="use a longer text or a shorter seq_len"):
        load_dataset("text-chars", path=str(short), seq_len=64)


# ========================================================== sequence-reverse/sort
@pytest.mark.parametrize("name", ["sequence-reverse", "sequence-sort"])
def test_token_tasks_give_id_sequences_and_their_answer(name: str) -> None:
    splits = load_dataset(name, n_samples=200, length=6, vocab=7)
    info = splits.info
    assert info.input_shape == (6,) and info.input_dtype == "int64" and info.task == "sequence"
    assert info.classes == tuple(str(i) for i in range(7))
    assert sum(len(p) for p in (splits.train, splits.val, splits.test)) == 200
    x, y = splits.train.x, splits.train.y
    assert x.dtype == y.dtype == torch.int64 and x.shape == y.shape == (len(x), 6)
    assert int(x.min()) >= 0 and int(x.max()) < 7
    expected = x.flip(1) if name == "sequence-reverse" else x.sort(dim=1).values
    assert torch.equal(y, expected)


def test_token_tasks_are_never_normalised() -> None:
    splits = load_dataset("sequence-sort", n_samples=50, normalise=True)
    assert splits.norm_mean is None and splits.train.x.dtype == torch.int64


# ============================================================= sequence-classify
def test_waves_are_float_sequences_labelled_by_frequency_band() -> None:
    splits = load_dataset("sequence-classify", n_samples=300, length=40, n_classes=4)
    info = splits.info
    assert info.task == "classification" and info.kind == "sequence"
    assert info.input_shape == (40, 1) and len(info.classes) == 4
    assert splits.train.x.dtype == torch.float32 and splits.train.x.shape[1:] == (40, 1)
    assert splits.train.y.dtype == torch.int64
    assert set(splits.train.y.tolist()) == {0, 1, 2, 3}
    # normalised with training statistics, one value per channel
    assert splits.norm_mean is not None and splits.norm_mean.shape == (1,)


def test_faster_bands_cross_zero_more_often() -> None:
    splits = load_dataset("sequence-classify", n_samples=400, noise=0.0, normalise=False)
    x, y = splits.train.x[..., 0].numpy(), splits.train.y.numpy()
    crossings = (np.diff(np.sign(x), axis=1) != 0).sum(axis=1)
    means = [crossings[y == k].mean() for k in range(3)]
    assert means[0] < means[1] < means[2]
    edges = frequency_bands(3)
    assert edges[0] == pytest.approx(1 / 40) and edges[-1] == pytest.approx(1 / 4)
