"""Downloading IDX files from a local HTTP server: progress, checksums, cancel."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nnstudio.data import DatasetCancelled, DatasetError, download_idx, load_dataset
from nnstudio.data import idx as idx_module

Served = tuple[str, Path, list[str]]  # base url, served folder, requested paths


def serve(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_streams_with_progress_and_verifies(http_folder: Served, tmp_path: Path) -> None:
    url, served, requested = http_folder
    payload = bytes(range(256)) * 10  # 2,560 bytes: ten 256-byte chunks
    files = {"a.bin": serve(served, "a.bin", payload), "b.bin": serve(served, "b.bin", b"bee")}
    seen: list[tuple[int, int, str]] = []
    dest = tmp_path / "dest"
    paths = download_idx(dest, url, files, lambda d, t, m: seen.append((d, t, m)), chunk_size=256)
    assert paths == [dest / "a.bin", dest / "b.bin"]
    assert (dest / "a.bin").read_bytes() == payload and (dest / "b.bin").read_bytes() == b"bee"
    assert leftovers(dest) == ["a.bin", "b.bin"]  # no temporary files remain
    a_steps = [(d, t) for d, t, m in seen if m == "downloading a.bin"]
    assert a_steps[0] == (0, 2560) and a_steps[-1] == (2560, 2560) and len(a_steps) == 11
    assert [d for d, _ in a_steps] == sorted(d for d, _ in a_steps)
    # already there with the right checksum: not fetched again
    download_idx(dest, url, files)
    assert requested == ["/a.bin", "/b.bin"]


def test_checksum_mismatch_keeps_nothing(http_folder: Served, tmp_path: Path) -> None:
    url, served, _ = http_folder
    serve(served, "x.gz", b"tampered contents")
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError) as caught:
        download_idx(dest, url, {"x.gz": "0" * 64})
    message = str(caught.value)
    assert "x.gz: checksum mismatch (expected sha256 " + "0" * 64 in message
    assert hashlib.sha256(b"tampered contents").hexdigest() in message
    assert leftovers(dest) == []


def test_a_bad_existing_file_is_replaced_only_by_a_verified_one(
    http_folder: Served, tmp_path: Path
) -> None:
    url, served, _ = http_folder
    digest = serve(served, "f.bin", b"good")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "f.bin").write_bytes(b"stale")
    download_idx(dest, url, {"f.bin": digest})
    assert (dest / "f.bin").read_bytes() == b"good"


def test_cancelling_mid_download_leaves_no_partial_file(
    http_folder: Served, tmp_path: Path
) -> None:
    url, served, _ = http_folder
    digest = serve(served, "big.bin", bytes(4096))
    dest = tmp_path / "dest"
    seen: list[int] = []

    def stop_halfway(done: int, total: int, message: str) -> bool:
        seen.append(done)
        return done < 2048

    with pytest.raises(DatasetCancelled):
        download_idx(dest, url, {"big.bin": digest}, stop_halfway, chunk_size=512)
    assert seen[-1] == 2048  # it stopped in the middle, not before or after
    assert leftovers(dest) == []


def test_network_errors_name_the_address(http_folder: Served, tmp_path: Path) -> None:
    url, _, _ = http_folder
    with pytest.raises(DatasetError, match=r"missing.gz: HTTP error 404"):
        download_idx(tmp_path / "d", url, {"missing.gz": "0" * 64})
    with pytest.raises(DatasetError, match="must start with http:// or https://"):
        download_idx(tmp_path / "d", "file:///etc/", {"passwd": "0" * 64})
    with pytest.raises(DatasetError, match="not a plain file name"):
        download_idx(tmp_path / "d", url, {"../escape": "0" * 64})
    assert leftovers(tmp_path / "d") == []


def test_mnist_option_download_fetches_missing_files(
    http_folder: Served,
    tmp_path: Path,
    make_idx_folder: Callable[..., dict[str, np.ndarray]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, served, requested = http_folder
    arrays = make_idx_folder(served, gz=True)
    for name in list(idx_module.MNIST_SHA256):
        digest = hashlib.sha256((served / name).read_bytes()).hexdigest()
        monkeypatch.setitem(idx_module.MNIST_SHA256, name, digest)
    dest = tmp_path / "mnist"
    splits = load_dataset("mnist", path=dest, download=True, url=url, normalise=False)
    assert len(splits.test) == 10 and len(requested) == 4
    assert (
        gzip.decompress((dest / "t10k-labels-idx1-ubyte.gz").read_bytes())[8:]
        == arrays["t10k-labels"].tobytes()
    )
    load_dataset("mnist", path=dest, download=True, url=url)
    assert len(requested) == 4  # all present: nothing downloaded the second time
    assert np.array_equal(splits.test.y.numpy(), arrays["t10k-labels"])


def test_published_checksums_are_well_formed() -> None:
    for table in (idx_module.MNIST_SHA256, idx_module.FASHION_SHA256):
        assert sorted(table) == sorted(
            f"{p}-{'idx3' if 'images' in p else 'idx1'}-ubyte.gz" for p in idx_module.PARTS
        )
        assert all(len(d) == 64 and int(d, 16) >= 0 for d in table.values())
