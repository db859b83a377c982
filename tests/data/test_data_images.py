"""Image folders: one sub-folder per class, resized to (C, size, size) in [0, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nnstudio.data import DatasetError, load_dataset
from nnstudio.data.images import read_image, scan_image_folder


def image_folder(root: Path, per_class: int = 6) -> Path:
    """cats: dark red 10x12 PNGs; dogs: bright green BMPs and JPEGs; plus clutter."""
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
    for i in range(per_class):
        Image.new("RGB", (10, 12), (80 + i, 0, 0)).save(root / "cats" / f"c{i}.png")
        suffix = ".bmp" if i % 2 else ".jpg"
        Image.new("RGB", (16, 16), (0, 240, 0)).save(root / "dogs" / f"d{i}{suffix}")
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / ".thumbnails").mkdir()  # hidden: not a class
    return root


def test_a_folder_per_class_becomes_labelled_images(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "pets")
    splits = load_dataset("image-folder", path=root, size=8, mode="rgb", normalise=False)
    info = splits.info
    assert info.classes == ("cats", "dogs") and info.kind == "image"
    assert info.input_shape == (3, 8, 8) and splits.train.x.shape[1:] == (3, 8, 8)
    assert sum(len(p) for p in (splits.train, splits.val, splits.test)) == 12
    x = torch.cat([splits.train.x, splits.val.x, splits.test.x])
    y = torch.cat([splits.train.y, splits.val.y, splits.test.y])
    assert 0.0 <= x.min() and x.max() <= 1.0
    cats, dogs = x[y == 0], x[y == 1]
    assert torch.all(cats[:, 1] == 0) and cats[:, 0].mean() > 0.3  # red, no green
    assert dogs[:, 1].mean() > 0.9 and dogs[:, 0].max() < 0.1  # green


def test_grey_mode_gives_one_channel_normalised_per_channel(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "pets")
    splits = load_dataset("image-folder", path=root, size=6)
    assert splits.train.x.shape[1:] == (1, 6, 6)
    assert splits.norm_mean.shape == (1, 1, 1)
    assert abs(splits.train.x.mean().item()) < 1e-4


def test_scan_lists_sorted_classes_and_ignores_other_files(tmp_path: Path) -> None:
    classes, files = scan_image_folder(image_folder(tmp_path / "pets", per_class=2))
    assert classes == ["cats", "dogs"]
    assert [(p.name, label) for p, label in files] == [
        ("c0.png", 0),
        ("c1.png", 0),
        ("d0.jpg", 1),
        ("d1.bmp", 1),
    ]


def test_read_image_resizes_and_scales_a_pgm(tmp_path: Path) -> None:
    path = tmp_path / "ramp.pgm"
    Image.fromarray(np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))).save(path)
    pixels = read_image(path, 4, "grey")
    assert pixels.shape == (1, 4, 4) and pixels.dtype == np.float32
    assert np.all(np.diff(pixels[0, 0]) > 0)  # the ramp survives resizing


def test_a_corrupt_image_is_named_or_skipped_when_asked(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "pets")
    (root / "cats" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetError, match=r"broken\.png: cannot read the image"):
        load_dataset("image-folder", path=root)
    splits = load_dataset("image-folder", path=root, skip_broken=True)
    assert sum(len(p) for p in (splits.train, splits.val, splits.test)) == 12
    assert "skipped 1 unreadable file(s), e.g. broken.png" in splits.info.description


@pytest.mark.parametrize(
    ("layout", "fragment"),
    [
        ({"only": 2}, "needs one sub-folder per class, at least two; found only"),
        ({"a": 2, "b": 0}, "class folder 'b' holds no image files"),
    ],
)
def test_folder_layout_errors(tmp_path: Path, layout: dict, fragment: str) -> None:
    for name, count in layout.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.new("L", (4, 4)).save(tmp_path / name / f"{i}.png")
    with pytest.raises(DatasetError, match=fragment):
        load_dataset("image-folder", path=tmp_path)
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset("image-folder", path=tmp_path / "missing")


def test_reading_images_reports_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "pets", per_class=20)
    seen: list[tuple[int, int]] = []
    load_dataset("image-folder", path=root, size=4, progress=lambda d, t, m: seen.append((d, t)))
    assert seen[0] == (0, 40) and seen[-1] == (40, 40)
    with pytest.raises(DatasetError, match="cancelled"):
        load_dataset("image-folder", path=root, progress=lambda d, t, m: d < 16)
