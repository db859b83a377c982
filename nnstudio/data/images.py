"""A folder of images with one sub-folder per class (``cats/``, ``dogs/``, ...).

Every image is converted to grey or RGB, resized to size x size (aspect ratio not
kept: the same squash torchvision's Resize((h, w)) does) and scaled to [0, 1],
giving x float32 (N, C, size, size).  An unreadable file raises DatasetError naming
it, unless ``skip_broken`` is set: then it is left out and counted in the
description.  Reading uses Pillow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import build_splits

IMAGE_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".bmp",
        ".gif",
        ".pgm",
        ".ppm",
        ".pbm",
        ".pnm",
        ".tif",
        ".tiff",
        ".webp",
    }
)
# Report progress every this many files: often enough for a smooth bar, rarely
# enough that a slow callback does not dominate reading thousands of tiny images.
_PROGRESS_EVERY = 16


def scan_image_folder(root: str | Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names (sorted sub-folder names) and (file, label) pairs under ``root``.

    Hidden files and folders, and files whose suffix is not an image type, are
    ignored.  Fewer than two class folders, or a class folder with no image, raises.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder (expected one sub-folder per class)")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        found = ", ".join(p.name for p in folders) or "none"
        raise DatasetError(f"{root}: needs one sub-folder per class, at least two; found {found}")
    files: list[tuple[Path, int]] = []
    for label, folder in enumerate(folders):
        images = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file()
            and p.suffix.lower() in IMAGE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )
        if not images:
            raise DatasetError(f"{folder}: class folder '{folder.name}' holds no image files")
        files.extend((path, label) for path in images)
    return [p.name for p in folders], files


def read_image(path: str | Path, size: int, mode: str) -> np.ndarray:
    """One image file as float32 (C, size, size) in [0, 1]; C is 1 for "grey", 3 for "rgb"."""
    try:
        # Imported here so the rest of nnstudio.data works where Pillow is absent.
        from PIL import Image
    except ImportError:
        raise DatasetError("reading image folders needs Pillow: pip install pillow") from None
    pil_mode = "L" if mode == "grey" else "RGB"
    try:
        with Image.open(path) as image:
            # JPEG can decode at a reduced scale directly: much faster for big photos.
            image.draft(pil_mode, (size, size))
            image = image.convert(pil_mode).resize((size, size), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DatasetError(f"{path}: cannot read the image ({error})") from None
    return pixels[None, :, :] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _load_folder(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    size, mode = opts["size"], opts["mode"]
    classes, files = scan_image_folder(opts["path"])
    channels = 1 if mode == "grey" else 3
    x = np.empty((len(files), channels, size, size), dtype=np.float32)
    y = np.empty(len(files), dtype=np.int64)
    kept, broken = 0, []
    for i, (path, label) in enumerate(files):
        if i % _PROGRESS_EVERY == 0:
            request.progress(i, len(files), f"reading {path.parent.name}/{path.name}")
        try:
            x[kept] = read_image(path, size, mode)
        except DatasetError:
            if not opts["skip_broken"]:
                raise
            broken.append(path.name)
            continue
        y[kept] = label
        kept += 1
    request.progress(len(files), len(files), "images read")
    x, y = x[:kept], y[:kept]
    missing = [classes[c] for c in range(len(classes)) if not np.any(y == c)]
    if missing:
        raise DatasetError(f"no readable image left in class folder(s): {', '.join(missing)}")
    root = Path(opts["path"])
    description = f"{root.name}: {kept} images in {len(classes)} classes, {size}x{size} {mode}"
    if broken:
        description += f"; skipped {len(broken)} unreadable file(s), e.g. {broken[0]}"
    info = DatasetInfo(
        name=request.name,
        task="classification",
        input_shape=(channels, size, size),
        classes=tuple(classes),
        description=description,
        kind="image",
    )
    return build_splits(
        info,
        x,
        y,
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        normalise=request.normalise,
    )


register(
    DatasetEntry(
        name="image-folder",
        title="Image folder",
        description="Your own images: one sub-folder per class.",
        task="classification",
        kind="image",
        loader=_load_folder,
        options=(
            Option(
                "path",
                str,
                "",
                "folder with one sub-folder per class",
                widget="folder",
                required=True,
            ),
            Option(
                "size",
                int,
                28,
                "width and height after resizing, in pixels",
                minimum=4,
                maximum=512,
            ),
            Option("mode", str, "grey", "colour mode", choices=("grey", "rgb")),
            Option(
                "skip_broken",
                bool,
                False,
                "leave out unreadable files instead of stopping (counted in the description)",
            ),
        ),
        group="Your files",
    )
)
