"""A growing (x, y) series in a preallocated numpy buffer that doubles when full.

Live plots append a few points many times a second; re-allocating on every append
would copy the whole history each time.  Doubling makes appends amortised O(1), and
:attr:`x` / :attr:`y` are views (no copy) that a curve's ``setData`` takes as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class GrowingSeries:
    """Float64 x/y samples; ``version`` changes with every append (for "is it dirty?")."""

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(max(1, capacity))
        self._y = np.empty(max(1, capacity))
        self.n = 0
        self.version = 0

    def __len__(self) -> int:
        return self.n

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self._x):
            size = len(self._x)
            while size < need:
                size *= 2
            for name in ("_x", "_y"):
                grown = np.empty(size)
                grown[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, grown)

    def append(self, x: float, y: float) -> None:
        self._reserve(1)
        self._x[self.n] = x
        self._y[self.n] = y
        self.n += 1
        self.version += 1

    def extend(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        k = len(xs)
        if k != len(ys):
            raise ValueError("xs and ys must have the same length")
        if not k:
            return
        self._reserve(k)
        self._x[self.n: self.n + k] = xs
        self._y[self.n: self.n + k] = ys
        self.n += k
        self.version += 1

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]

    @property
    def capacity(self) -> int:
        return len(self._x)
