"""The Qt binding must not lose references to None/True (PySide6 6.12.0 on Python < 3.12
does, and the app then aborts with "none_dealloc" after a few minutes of painting;
pyproject.toml excludes that release)."""

import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()


def test_void_calls_and_emits_keep_none_and_true_alive(qapp):
    probe = _Probe()
    for _ in range(50):  # warm-up: caches fill and settle
        probe.setObjectName("probe")
        probe.ping.emit()
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        probe.setObjectName("probe")
        probe.ping.emit()
    assert sys.getrefcount(None) > none0 - 100, "this PySide6 drops references to None"
    assert sys.getrefcount(True) > true0 - 100, "this PySide6 drops references to True"
