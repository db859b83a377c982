"""Shared set-up for the document tests: makes ``graph_testkit`` importable, and keeps
a long run of document edits from exhausting ``None``'s reference count."""

from __future__ import annotations

import ctypes
import gc
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    # the tests import their builders from graph_testkit.py next to this file
    sys.path.insert(0, _HERE)


def _psygnal_emit_loses_none() -> bool:
    """Whether a psygnal emit takes a reference to None away for good.

    Seen with psygnal 0.16.1 (mypyc build) on Python 3.11 once PySide6 6.12 is imported
    — which pytest-qt does in every test process, even for these Qt-free tests.  Each
    document edit emits a few signals, so a few tens of thousands of edits (the scaling
    tests make that many) end in "Fatal Python error: none_dealloc".  Python 3.12 makes
    None immortal; the app pads the count itself (nnstudio.ui.canvas._none_refcount).
    """
    if sys.version_info >= (3, 12):
        return False
    from psygnal import Signal

    class _Probe:
        ping = Signal(object)

    probe = _Probe()
    probe.ping.connect(lambda _: None)
    for _ in range(200):  # warm up: first calls free objects that held None
        probe.ping.emit(0)
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(200):
        probe.ping.emit(0)
    return sys.getrefcount(None) <= before - 150


_padded = False


@pytest.fixture(autouse=True, scope="session")
def _none_outlives_the_edits():
    """Pad None's (and the bools') reference count once, if emits lose references.

    A session fixture, not import-time code: pytest-qt imports PySide6 only after the
    conftest files are loaded, and the loss starts with that import.
    """
    global _padded
    if not _padded and _psygnal_emit_loses_none():
        _padded = True
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    yield
