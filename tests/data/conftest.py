"""Small files the data tests write themselves: CSV, PNG folders, IDX files, a web server."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format (magic 0x0000 08 ndim, big-endian dims)."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(
    folder: Path, *, gz: bool, n_train: int = 40, n_test: int = 10, side: int = 7, seed: int = 0
) -> dict[str, np.ndarray]:
    """Write the four MNIST-format files; labels cycle 0..9, pixels are label-coded."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 50, (n, side, side)).astype(np.uint8)
        images[:, 0, 0] = labels * 25  # a pixel that says the label, to check pairing
        arrays[f"{split}-images"], arrays[f"{split}-labels"] = images, labels
    for part, array in arrays.items():
        dims = "idx3" if part.endswith("images") else "idx1"
        data = idx_bytes(array)
        name = f"{part}-{dims}-ubyte"
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


@pytest.fixture
def idx_folder(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    arrays = write_idx_folder(tmp_path / "mnist", gz=False)
    return tmp_path / "mnist", arrays


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self.server.requested.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) serving a temp folder.

    Yields (base url, served folder, list of requested paths).
    """
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requested = []  # type: ignore[attr-defined]
    # a short poll interval makes shutdown() at teardown quick
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        yield url, served, server.requested  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def make_idx_folder() -> Callable[..., dict[str, np.ndarray]]:
    """The IDX writer, as a fixture: test modules cannot import conftest directly."""
    return write_idx_folder


@pytest.fixture
def encode_idx() -> Callable[[np.ndarray], bytes]:
    return idx_bytes
