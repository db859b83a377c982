"""Keep the memory PyTorch frees inside the process while training (glibc only).

A training step frees and allocates the same large tensors over and over.  glibc's
malloc gives the top of a heap back to the kernel as soon as more than 128 KiB of it is
free, and serves blocks above a (self-adjusting) size with fresh ``mmap`` calls; either
way the next step's tensor of the same size faults its pages in again, zeroed by the
kernel.  On a background thread, which has a heap of its own, this is worse: measured
on the overhead benchmark's MLP, 5,000–21,000 page faults and up to 36 ms of kernel time
per 1.4-s run on a worker thread, against about 100 on the main thread — several per
cent of the run.  Raising the trim and mmap thresholds keeps those pages in the process
(:func:`keep_freed_memory`, once per process); :func:`give_back_memory` returns what is
free once a run has ended.  Elsewhere (macOS, Windows, musl) both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 256 << 20  # free memory kept at the top of a heap
MMAP_THRESHOLD = 32 << 20  # blocks this large or larger still get their own mapping (glibc's maximum)

_libc: ctypes.CDLL | None = None
_tuned: bool | None = None  # None: not tried yet


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl has no mallopt)
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
            _libc = libc
        except (OSError, AttributeError):
            return None
    return _libc


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds (once per process); True where they are."""
    global _tuned
    if _tuned is None:
        libc = _glibc()
        _tuned = bool(libc is not None
                      and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                      and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
    return _tuned


def give_back_memory() -> None:
    """Return the free memory of every heap to the kernel (after a run)."""
    libc = _glibc()
    if libc is not None and _tuned:
        libc.malloc_trim(0)
