"""Shared set-up for the import/export tests: makes ``export_models`` importable, and
fixtures that write a model's source to a file and load a Python file as a module."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)  # the tests import their models from export_models.py


@pytest.fixture
def write_source(tmp_path):
    """``write_source(text, name="model.py")`` → the path of a file holding ``text``."""
    def write(text: str, name: str = "model.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return write


def load_module(path: Path, name: str | None = None):
    """Import the Python file at ``path`` as a fresh module (the person's, or an export)."""
    name = name or f"_nnstudio_test_{path.stem}_{abs(hash(str(path))):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_py():
    return load_module
