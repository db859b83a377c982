"""Generated 2-D point sets for the first stages of the roadmap (and the GAN stage).

Each generator is a pure function of its options and the seed, so the same seed
always draws the same points.  x is float32 (N, 2), y int64 (N,).
"""

from __future__ import annotations

import numpy as np

from nnstudio.data.base import DatasetInfo, DatasetSplits
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import build_splits

N_SAMPLES = Option("n_samples", int, 1000, "number of points", minimum=20, maximum=1_000_000)
FACTOR = Option(
    "factor", float, 0.5, "inner radius relative to the outer", minimum=0.05, maximum=0.95
)


def _noise(default: float, doc: str = "standard deviation of the added noise") -> Option:
    return Option("noise", float, default, doc, minimum=0.0, maximum=10.0)


def _n_classes(default: int, maximum: int = 10) -> Option:
    return Option("n_classes", int, default, "number of classes", minimum=2, maximum=maximum)


def _per_class_counts(n: int, k: int) -> list[int]:
    # Spread the remainder over the first classes so the total is exactly n.
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def make_spiral(n: int, n_classes: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms of ``n`` points in total, radius up to 1."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for arm, count in enumerate(_per_class_counts(n, n_classes)):
        t = rng.uniform(0.0, 1.0, count)
        radius = 0.1 + 0.9 * t
        angle = 2 * np.pi * arm / n_classes + 1.75 * 2 * np.pi * t
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        xs.append(points + rng.normal(0.0, noise, points.shape))
        ys.append(np.full(count, arm))
    return np.concatenate(xs), np.concatenate(ys)


def make_xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2, class 1 where the signs of x and y differ."""
    rng = np.random.default_rng(seed)
    clean = rng.uniform(-1.0, 1.0, (n, 2))
    # Labels come from the clean position; noise then blurs the boundary.
    labels = (clean[:, 0] * clean[:, 1] < 0).astype(np.int64)
    return clean + rng.normal(0.0, noise, clean.shape), labels


def make_gaussians8(
    n: int, noise: float, radius: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A mixture of 8 gaussians evenly spaced on a ring; y is the mode index."""
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, 8, n)
    angle = 2 * np.pi * modes / 8
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(0.0, noise, (n, 2)), modes


def _points(name: str, request: LoadRequest) -> tuple[np.ndarray, np.ndarray]:
    # imported here: scikit-learn takes seconds to import, and the window must not wait
    from sklearn.datasets import make_blobs, make_circles, make_moons

    opts, seed = request.options, request.seed
    n, noise = opts["n_samples"], opts["noise"]
    if name == "moons":
        return make_moons(n, noise=noise, random_state=seed)
    if name == "circles":
        return make_circles(n, noise=noise, factor=opts["factor"], random_state=seed)
    if name == "spiral":
        return make_spiral(n, opts["n_classes"], noise, seed)
    if name == "xor":
        return make_xor(n, noise, seed)
    if name == "blobs":
        return make_blobs(n, centers=opts["n_classes"], cluster_std=noise, random_state=seed)
    return make_gaussians8(n, noise, opts["radius"], seed)


def _load_points(request: LoadRequest) -> DatasetSplits:
    request.progress(0, 1, f"generating {request.name}")
    x, y = _points(request.name, request)
    n_classes = int(y.max()) + 1
    generative = request.name == "gaussians8"
    info = DatasetInfo(
        name=request.name,
        task="generative" if generative else "classification",
        input_shape=(2,),
        classes=tuple(f"mode {i}" if generative else str(i) for i in range(n_classes)),
        feature_names=("x1", "x2"),
        description=_DESCRIPTIONS[request.name],
        kind="points2d",
    )
    splits = build_splits(
        info,
        x.astype(np.float32),
        y.astype(np.int64),
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        normalise=request.normalise,
    )
    request.progress(1, 1, f"generated {request.name}")
    return splits


_DESCRIPTIONS = {
    "moons": "Two interleaving half circles: the classic first non-linear boundary.",
    "circles": "A small circle inside a large one: no straight line separates them.",
    "spiral": "Interleaved spiral arms, one class per arm: needs a deep, wide network.",
    "xor": "Four quadrants, opposite ones share a class: what one perceptron cannot learn.",
    "blobs": "Gaussian clusters, one per class: linearly separable when well apart.",
    "gaussians8": "Eight gaussians on a ring: a GAN should cover every mode.",
}

_ENTRIES = [
    ("moons", "Two moons", (N_SAMPLES, _noise(0.2))),
    ("circles", "Circles", (N_SAMPLES, _noise(0.1), FACTOR)),
    ("spiral", "Spiral", (N_SAMPLES, _noise(0.05), _n_classes(3, maximum=8))),
    ("xor", "XOR", (N_SAMPLES, _noise(0.1))),
    (
        "blobs",
        "Blobs",
        (N_SAMPLES, _noise(1.0, "standard deviation of each cluster"), _n_classes(3)),
    ),
    (
        "gaussians8",
        "Eight gaussians",
        (
            Option("n_samples", int, 2000, "number of points", minimum=20, maximum=1_000_000),
            _noise(0.05, "standard deviation of each gaussian"),
            Option("radius", float, 2.0, "radius of the ring", minimum=0.1, maximum=100.0),
        ),
    ),
]

for _name, _title, _options in _ENTRIES:
    register(
        DatasetEntry(
            name=_name,
            title=_title,
            description=_DESCRIPTIONS[_name],
            task="generative" if _name == "gaussians8" else "classification",
            kind="points2d",
            loader=_load_points,
            options=_options,
            group="Generated",
        )
    )
