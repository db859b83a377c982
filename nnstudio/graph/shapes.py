"""Tensor shapes with a symbolic batch dimension, and the error a shape rule raises."""

from __future__ import annotations

from typing import TypeAlias

Dim: TypeAlias = int | str  # an int, or a symbol such as "B" (batch) or "T" (sequence length)
Shape = tuple[Dim, ...]

BATCH = "B"


class ShapeError(ValueError):
    """A layer cannot take the shapes that arrive; ``port`` names the input at fault."""

    def __init__(self, message: str, port: str | None = None):
        super().__init__(message)
        self.port = port


def fmt_shape(shape: Shape | None) -> str:
    """``("B", 16, 5, 5)`` → ``"[B, 16, 5, 5]"``; ``None`` → ``"?"``."""
    if shape is None:
        return "?"
    return "[" + ", ".join(str(d) for d in shape) + "]"


def numel(dims) -> int | None:
    """Product of concrete dims, or None when one of them is symbolic."""
    total = 1
    for d in dims:
        if not isinstance(d, int):
            return None
        total *= d
    return total


def expect_rank(shape: Shape, ranks: tuple[int, ...], what: str, port: str = "in") -> None:
    """Raise ShapeError unless ``shape`` has one of ``ranks`` dimensions."""
    if len(shape) not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise ShapeError(f"expects {want} input {what}, got {fmt_shape(shape)}", port)


def conv_out(size: Dim, kernel: int, stride: int, padding: int, dilation: int = 1) -> Dim:
    """Output length of a convolution or pooling along one axis (PyTorch's formula)."""
    if not isinstance(size, int):
        return size
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_out(size: Dim, kernel: int, stride: int, padding: int, output_padding: int,
                       dilation: int = 1) -> Dim:
    if not isinstance(size, int):
        return size
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
