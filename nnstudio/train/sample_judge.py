"""Does a generated example look like a real one, and like which class?

A GAN's losses say little about its samples, and a VAE's ELBO little about what its
prior decodes to.  :class:`SampleJudge` answers with the real data alone, no trained
classifier: a sample is *recognised* when

1. it lies as close to some real training example as 95% of the real examples lie to
   their nearest other one (so it is on the data, not noise or a smear), and
2. its 5 nearest real examples all have the same class (so it is one clear digit, not
   a blend of a 3 and an 8 — a blend lands between classes and gets mixed neighbours).

This is a nearest-neighbour form of the precision of Kynkäänniemi et al. (2019),
with a class vote for coverage.  Calibrated on real digits, about 85% of unseen real
digits pass, uniform noise, shuffled pixels and the mean image never do, and random
blends of two digits rarely do (see tests/train/test_generative_templates.py).
It rewards samples near the training set, copies included: it measures quality and
coverage, not originality.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

REFERENCE_LIMIT = 2000  # real examples kept as the reference (distances cost N x M)
NEIGHBOURS = 5


@dataclass(frozen=True)
class Judgement:
    recognised: float  # share of the samples recognised as some class
    classes_covered: int  # classes that at least min_fraction of the samples are recognised as
    counts: tuple[int, ...]  # recognised samples per class


class SampleJudge:
    """Judges samples against real examples ``x`` [N, ...] of classes ``y`` [N] (ints).

    ``quantile`` sets the distance threshold: that share of the real examples lie this
    close to their nearest other real example.  Above :data:`REFERENCE_LIMIT`
    examples, an evenly spaced subset is the reference.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, n_classes: int, *,
                 quantile: float = 0.95) -> None:
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
        if len(x) <= NEIGHBOURS:
            raise ValueError(f"judging samples needs more than {NEIGHBOURS} real examples; "
                             f"got {len(x)}")
        step = max(1, -(-len(x) // REFERENCE_LIMIT))
        kept = x.detach()[::step]
        self.x = kept.reshape(len(kept), -1).double().cpu()
        self.y = y.detach()[::step].reshape(-1).long().cpu()
        self.n_classes = int(n_classes)
        d = torch.cdist(self.x, self.x)
        d.fill_diagonal_(float("inf"))
        self.threshold = float(d.min(dim=1).values.quantile(quantile))

    def _vote(self, samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(recognised [M] bool, nearest real example's class [M]) of ``samples``."""
        s = samples.detach().reshape(len(samples), -1).double().cpu()
        if s.shape[1] != self.x.shape[1]:
            raise ValueError(f"samples have {s.shape[1]} values each but the real examples "
                             f"have {self.x.shape[1]}")
        near = torch.cdist(s, self.x).topk(NEIGHBOURS, dim=1, largest=False)
        votes = self.y[near.indices]  # [M, k]
        unanimous = (votes == votes[:, :1]).all(dim=1)
        return unanimous & (near.values[:, 0] <= self.threshold), votes[:, 0]

    def judge(self, samples: torch.Tensor, *, min_fraction: float = 0.01) -> Judgement:
        """Which of ``samples`` [M, ...] (the examples' shape) are recognised, as what.

        A class counts as covered when at least ``min_fraction`` of the M samples are
        recognised as it (1%: stray samples do not make a class count).
        """
        m = len(samples)
        if m == 0:
            return Judgement(0.0, 0, (0,) * self.n_classes)
        good, label = self._vote(samples)
        counts = torch.bincount(label[good], minlength=self.n_classes)
        covered = int((counts >= min_fraction * m).sum())
        return Judgement(float(good.double().mean()), covered, tuple(int(c) for c in counts))

    def labels(self, samples: torch.Tensor) -> list[int]:
        """The class each sample is recognised as, or -1 where it is not recognised."""
        if len(samples) == 0:
            return []
        good, label = self._vote(samples)
        return torch.where(good, label, torch.full_like(label, -1)).tolist()


def judge_for(train: object, info: object) -> SampleJudge | None:
    """A judge of the training split's examples when its targets are class indices of a
    data set with classes (digits, an image folder); None otherwise."""
    classes = getattr(info, "classes", None)
    y = getattr(train, "y", None)
    if not classes or y is None or y.dim() != 1 or y.is_floating_point():
        return None
    if len(y) <= NEIGHBOURS:
        return None
    return SampleJudge(train.x.float(), y, len(classes))
