"""The live pictures of the generative recipes (autoencoder, VAE, GAN).

Pure helpers turning tensors into :class:`~nnstudio.train.preview.Preview` data: a
mosaic of examples as images in 0..1, inputs beside their reconstructions, a latent
scatter coloured by class, generated points over the data.  The recipes choose what to
show; these only shape it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from nnstudio.train.preview import Preview, to_numpy

PAIRS = 8  # inputs shown with their reconstructions
GRID_SIDE = 6  # generated examples: a 6 x 6 grid
REAL_POINTS = 600  # real points drawn under a 2-D GAN's samples
GREY = (150, 150, 150)
GENERATED = (255, 140, 40)


def image_shape(example: Sequence[int]) -> tuple[int, ...] | None:
    """How one example of shape ``example`` is drawn: (H, W), (3, H, W), or None when it
    is not an image (a vector of features, a sequence)."""
    example = tuple(example)
    if len(example) == 2:
        return example
    if len(example) == 3 and example[0] in (1, 3):
        return example[1:] if example[0] == 1 else example
    return None


def as_images(x: torch.Tensor, example: Sequence[int], lo: float = 0.0, hi: float = 1.0
              ) -> np.ndarray | None:
    """Examples ``x`` [N, ...] (flat or shaped) as images in 0..1: [N, H, W] or
    [N, 3, H, W]; values from ``lo`` to ``hi`` (the data's range) map onto 0..1.
    None when the examples are not images."""
    shape = image_shape(example)
    if shape is None:
        return None
    span = hi - lo if hi > lo else 1.0
    images = ((x.reshape(len(x), *shape).float() - lo) / span).clamp(0.0, 1.0)
    return to_numpy(images)


def reconstruction_preview(x: torch.Tensor, recon: torch.Tensor, example: Sequence[int],
                           lo: float, hi: float, labels: Sequence[str] | None = None,
                           title: str = "Reconstructions") -> Preview | None:
    """Up to :data:`PAIRS` inputs (top row) above their reconstructions (bottom row).

    Each input is captioned with its class (when ``labels`` are given); the note gives
    the mean squared error of the pairs shown, in the data's units.
    """
    n = min(PAIRS, len(x))
    if n == 0:
        return None
    x, recon = x[:n].float(), recon[:n].reshape(x[:n].shape).float()
    pictures = as_images(torch.cat([x, recon]), example, lo, hi)
    if pictures is None:
        return None
    error = float((recon - x).pow(2).mean())
    captions = [*labels[:n], *([""] * n)] if labels is not None else None
    note = f"top: inputs · bottom: their reconstructions · mean squared error {error:.4f}"
    return Preview("images", title, {"images": pictures, "columns": n, "captions": captions,
                                     "note": note})


def samples_preview(samples: torch.Tensor, example: Sequence[int], lo: float, hi: float,
                    title: str, captions: Sequence[str] | None = None,
                    columns: int = GRID_SIDE, note: str = "") -> Preview | None:
    """Generated examples as a grid of images (None when they are not images)."""
    pictures = as_images(samples, example, lo, hi)
    if pictures is None:
        return None
    data = {"images": pictures, "columns": columns,
            "captions": list(captions) if captions is not None else None}
    if note:
        data["note"] = note
    return Preview("images", title, data)


def class_labels(y: torch.Tensor, classes: Sequence[str]) -> list[str] | None:
    """The class name of each target in ``y``, when the targets are class indices."""
    if not classes or y.dim() != 1 or y.is_floating_point():
        return None
    return [classes[i] if 0 <= i < len(classes) else str(i) for i in y.cpu().tolist()]


def busiest_dims(codes: torch.Tensor) -> tuple[int, int]:
    """The two code dimensions whose values vary most over the examples, in index order.

    A VAE leaves the dimensions it does not use at the prior (mu ≈ 0 for every example):
    the two that vary most show the structure it has learnt.
    """
    spread = codes.float().var(dim=0) if len(codes) > 1 else torch.zeros(codes.shape[1])
    a, b = sorted(spread.topk(2).indices.tolist())
    return a, b


def latent_preview(codes: torch.Tensor, y: torch.Tensor | None,
                   title: str = "Latent space") -> Preview | None:
    """The codes [N, d] of examples as points coloured by class.

    With d = 2 the plane is the code; with more dimensions, the two that vary most,
    named in the axis labels; with one, the code against zero.
    """
    codes = codes.reshape(len(codes), -1).float().cpu()
    n, d = codes.shape
    if n == 0 or d == 0:
        return None
    if d == 1:
        xy = torch.cat([codes, torch.zeros(n, 1)], dim=1)
        x_label, y_label = "z1 (the code has one dimension)", ""
    elif d == 2:
        xy, x_label, y_label = codes, "z1", "z2"
    else:
        a, b = busiest_dims(codes)
        xy = codes[:, [a, b]]
        x_label = f"z{a + 1} (of {d}; the two that vary most)"
        y_label = f"z{b + 1}"
    classes = None
    if y is not None and y.dim() == 1 and not y.is_floating_point() and len(y) == n:
        classes = y.cpu().numpy().astype(np.int64)
    layer = {"name": "examples", "xy": to_numpy(xy), "classes": classes, "color": None,
             "size": 6.0}
    return Preview("points", title, {"layers": [layer], "x_label": x_label,
                                     "y_label": y_label})


def latent_grid(side: int = 8, extent: float = 2.0) -> torch.Tensor:
    """A regular ``side`` x ``side`` grid over [-extent, extent]² of a 2-D latent plane,
    row by row from the top left (z2 large) to the bottom right, as [side², 2]."""
    ticks = torch.linspace(-extent, extent, side)
    z2, z1 = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)


def points_preview(real: torch.Tensor, fake: torch.Tensor,
                   title: str = "Generated points over the data") -> Preview:
    """A 2-D GAN: the real data in grey under the generated points in colour."""
    layers = [
        {"name": "real data", "xy": to_numpy(real.reshape(len(real), 2)), "classes": None,
         "color": GREY, "size": 4.0},
        {"name": "generated", "xy": to_numpy(fake.reshape(len(fake), 2)), "classes": None,
         "color": GENERATED, "size": 5.0},
    ]
    return Preview("points", title, {"layers": layers, "x_label": "x1", "y_label": "x2"})


def judged_captions(judge, samples: torch.Tensor, classes: Sequence[str]) -> list[str] | None:
    """Each sample's class as the judge recognises it, or "?" (see sample_judge)."""
    if judge is None:
        return None
    return [classes[k] if k >= 0 else "?" for k in judge.labels(samples)]
