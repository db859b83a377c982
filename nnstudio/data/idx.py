"""MNIST-format IDX files (MNIST, Fashion-MNIST) from a folder, optionally downloaded.

The folder holds train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally gzipped (.gz).
The t10k files are the test split; validation comes out of the training files.
With ``download`` set, missing files are fetched from ``url`` and checked against
their published sha256 (see :mod:`nnstudio.data.download`).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits
from nnstudio.data.download import download_idx
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import build_splits

# IDX type byte -> big-endian numpy dtype (the format's own table)
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
PARTS = ("train-images", "train-labels", "t10k-images", "t10k-labels")
_NDIM = {"images": 3, "labels": 1}


def _sums(listing: str) -> dict[str, str]:
    """'<sha256>  <file name>' lines (the sha256sum format) -> {file name: sha256}."""
    return {
        name: digest for digest, name in (line.split() for line in listing.strip().splitlines())
    }


# Published sha256 of the gzipped files, identical on every mirror.
MNIST_SHA256 = _sums("""
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz
""")
FASHION_SHA256 = _sums("""
08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc  train-images-idx3-ubyte.gz
b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc  train-labels-idx1-ubyte.gz
78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229  t10k-images-idx3-ubyte.gz
42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf  t10k-labels-idx1-ubyte.gz
""")
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one IDX file into an array of its native type and shape.

    Checks the magic number, the type byte and that the size matches the dimensions;
    any mismatch raises DatasetError naming ``name``.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        magic = data[:4].hex() or "none"
        raise DatasetError(f"{name}: not an IDX file (bad magic number {magic})")
    dtype = _IDX_TYPES.get(data[2])
    if dtype is None:
        raise DatasetError(f"{name}: unknown IDX element type 0x{data[2]:02x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DatasetError(f"{name}: IDX header truncated or with no dimensions")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DatasetError(
            f"{name}: dimensions {dims} need {expected} bytes of data, "
            f"the file has {len(data) - header}"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def find_idx_file(folder: Path, part: str) -> Path | None:
    """The file for ``part`` (e.g. "train-images") in ``folder``, plain or .gz, or None.

    Accepts the usual spellings: train-images-idx3-ubyte and train-images.idx3-ubyte.
    """
    kind = part.split("-")[1]
    dims = "idx3" if kind == "images" else "idx1"
    for sep in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = folder / f"{part}{sep}{dims}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    return None


def read_idx_file(path: Path) -> np.ndarray:
    """Read (gunzipping if it ends in .gz) and parse one IDX file."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                data = handle.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError) as error:
        # gzip.BadGzipFile is an OSError; a truncated archive ends in EOFError
        raise DatasetError(f"{path}: cannot read ({error})") from None
    return parse_idx(data, path.name)


def read_idx_folder(
    folder: str | Path, progress: Callable[[int, int, str], object] | None = None
) -> dict[str, np.ndarray]:
    """The four MNIST-format arrays from ``folder``, keyed by PARTS, checked for shape.

    ``progress``, if given, is called as progress(done, total, message) per file.
    """
    folder = Path(folder)
    arrays: dict[str, np.ndarray] = {}
    for i, part in enumerate(PARTS):
        path = find_idx_file(folder, part)
        if path is None:
            raise DatasetError(
                f"{folder}: no {part} file (expected {', '.join(PARTS)} as '-idx?-ubyte' "
                f"files, optionally .gz); set the option download to fetch them"
            )
        if progress is not None:
            progress(i, len(PARTS), f"reading {path.name}")
        array = read_idx_file(path)
        want = _NDIM[part.split("-")[1]]
        if array.ndim != want:
            raise DatasetError(
                f"{path.name}: expected {want} dimension(s), found shape {array.shape}"
            )
        arrays[part] = array
    for split in ("train", "t10k"):
        n_images, n_labels = len(arrays[f"{split}-images"]), len(arrays[f"{split}-labels"])
        if n_images != n_labels:
            raise DatasetError(f"{folder}: {split} has {n_images} images but {n_labels} labels")
    if arrays["train-images"].shape[1:] != arrays["t10k-images"].shape[1:]:
        raise DatasetError(f"{folder}: train and t10k images differ in size")
    return arrays


def _load_idx(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    fashion = request.name == "fashion-mnist"
    folder = Path(opts["path"])
    if opts["download"]:
        checksums = FASHION_SHA256 if fashion else MNIST_SHA256
        wanted = {
            name: digest
            for name, digest in checksums.items()
            if find_idx_file(folder, name.split("-idx")[0]) is None
        }
        if wanted:
            download_idx(folder, opts["url"], wanted, request.progress)
    arrays = read_idx_folder(folder, request.progress)
    classes = FASHION_CLASSES if fashion else tuple(str(d) for d in range(10))
    for part in ("train-labels", "t10k-labels"):
        labels = arrays[part]
        if labels.min() < 0 or labels.max() >= len(classes):
            raise DatasetError(f"{folder}: {part} holds labels outside 0..{len(classes) - 1}")

    def images(part: str) -> np.ndarray:
        # uint8 pixels to [0, 1], with a channel axis
        return (arrays[part].astype(np.float32) / 255.0)[:, None, :, :]

    height, width = arrays["train-images"].shape[1:]
    info = DatasetInfo(
        name=request.name,
        task="classification",
        input_shape=(1, height, width),
        classes=classes,
        description=(
            f"{'Fashion-MNIST' if fashion else 'MNIST'} from {folder.name}: "
            f"{len(arrays['train-images'])} training and {len(arrays['t10k-images'])} test images"
        ),
        kind="image",
    )
    return build_splits(
        info,
        images("train-images"),
        arrays["train-labels"].astype(np.int64),
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=0.0,
        normalise=request.normalise,
        per_class=opts["per_class"],
        test=(images("t10k-images"), arrays["t10k-labels"].astype(np.int64)),
    )


def _options(url: str) -> tuple[Option, ...]:
    return (
        Option(
            "path", str, "", "folder holding the four IDX files", widget="folder", required=True
        ),
        Option("download", bool, False, "download missing files into the folder"),
        Option("url", str, url, "base address the files are downloaded from"),
        Option(
            "per_class",
            int,
            0,
            "keep at most this many training examples per class (0: all)",
            minimum=0,
        ),
    )


register(
    DatasetEntry(
        name="mnist",
        title="MNIST",
        description="70,000 handwritten digits, 28x28, in IDX files (t10k files: the test set).",
        task="classification",
        kind="image",
        loader=_load_idx,
        options=_options(MNIST_URL),
        group="Your files",
    )
)

register(
    DatasetEntry(
        name="fashion-mnist",
        title="Fashion-MNIST",
        description="70,000 clothing pictures in 10 classes, 28x28, same IDX format as MNIST.",
        task="classification",
        kind="image",
        loader=_load_idx,
        options=_options(FASHION_URL),
        group="Your files",
    )
)
