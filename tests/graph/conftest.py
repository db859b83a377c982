"""Shared set-up for the document tests: makes ``graph_testkit`` importable."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    # the tests import their builders from graph_testkit.py next to this file
    sys.path.insert(0, _HERE)
