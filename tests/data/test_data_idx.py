"""MNIST-format IDX files: parsing, validation and the mnist / fashion-mnist loaders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, load_dataset
from nnstudio.data.idx import FASHION_CLASSES, parse_idx

IdxFolder = tuple[Path, dict[str, np.ndarray]]


def test_mnist_loads_train_and_uses_t10k_as_the_test_split(idx_folder: IdxFolder) -> None:
    folder, arrays = idx_folder
    splits = load_dataset(
        "mnist", path=folder, normalise=False, val_fraction=0.25, test_fraction=0.5
    )  # test_fraction is ignored: t10k is the test set
    assert splits.info.input_shape == (1, 7, 7) and splits.info.classes == tuple("0123456789")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (30, 10, 10)
    assert torch.equal(splits.test.y, torch.from_numpy(arrays["t10k-labels"].astype(np.int64)))
    expected = torch.from_numpy(arrays["t10k-images"]).float() / 255
    assert torch.allclose(splits.test.x[:, 0], expected)
    # images and labels stay paired through the shuffle: pixel (0, 0) encodes the label
    assert torch.allclose(splits.train.x[:, 0, 0, 0] * 255, splits.train.y.float() * 25)


def test_gzipped_files_and_fashion_class_names(
    tmp_path: Path, make_idx_folder: Callable[..., dict[str, np.ndarray]]
) -> None:
    make_idx_folder(tmp_path / "fashion", gz=True)
    splits = load_dataset("fashion-mnist", path=tmp_path / "fashion")
    assert splits.info.classes == FASHION_CLASSES
    assert splits.info.classes[0] == "T-shirt/top" and splits.info.classes[9] == "Ankle boot"
    assert splits.norm_mean.shape == (1, 1, 1)
    assert len(splits.test) == 10


def test_per_class_applies_to_mnist_training_images(idx_folder: IdxFolder) -> None:
    folder, _ = idx_folder
    splits = load_dataset("mnist", path=folder, per_class=2, val_fraction=0.1)
    assert int(torch.bincount(splits.train.y).max()) == 2


def test_parse_idx_reads_other_element_types(encode_idx: Callable[[np.ndarray], bytes]) -> None:
    values = np.array([[1.5, -2.0], [3.25, 4.0]], dtype=">f4")
    data = bytes([0, 0, 0x0D, 2]) + np.array([2, 2], ">u4").tobytes() + values.tobytes()
    parsed = parse_idx(data)
    assert parsed.dtype == np.float32 and parsed.tolist() == [[1.5, -2.0], [3.25, 4.0]]
    assert parse_idx(encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))).shape == (2, 3)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x01\x02\x08\x01", "not an IDX file (bad magic number 01020801)"),
        (b"", "bad magic number none"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "unknown IDX element type 0x07"),
        (bytes([0, 0, 0x08, 3, 0, 0]), "header truncated"),
        (
            bytes([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2]),
            "dimensions (5,) need 5 bytes of data, the file has 2",
        ),
    ],
)
def test_malformed_idx_is_rejected_with_the_reason(data: bytes, fragment: str) -> None:
    with pytest.raises(DatasetError) as caught:
        parse_idx(data, "x-idx1-ubyte")
    assert str(caught.value).startswith("x-idx1-ubyte: ") and fragment in str(caught.value)


def test_folder_errors_name_the_problem(
    idx_folder: IdxFolder, encode_idx: Callable[[np.ndarray], bytes]
) -> None:
    folder, arrays = idx_folder
    labels = folder / "train-labels-idx1-ubyte"
    labels.write_bytes(encode_idx(arrays["train-labels"][:-1]))
    with pytest.raises(DatasetError, match="train has 40 images but 39 labels"):
        load_dataset("mnist", path=folder)
    labels.write_bytes(encode_idx(arrays["train-images"][:, :, 0]))
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte: expected 1 dimension\(s\)"):
        load_dataset("mnist", path=folder)
    labels.write_bytes(encode_idx(arrays["train-labels"] + 10))
    with pytest.raises(DatasetError, match=r"train-labels holds labels outside 0..9"):
        load_dataset("mnist", path=folder)
    labels.unlink()
    with pytest.raises(DatasetError, match="no train-labels file"):
        load_dataset("mnist", path=folder)


def test_a_truncated_gzip_is_named(
    tmp_path: Path, make_idx_folder: Callable[..., dict[str, np.ndarray]]
) -> None:
    folder = tmp_path / "m"
    make_idx_folder(folder, gz=True)
    archive = folder / "t10k-images-idx3-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:30])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz: cannot read"):
        load_dataset("mnist", path=folder)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"plain bytes")
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: cannot read"):
        load_dataset("mnist", path=folder)
