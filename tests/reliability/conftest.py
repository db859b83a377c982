"""Shared set-up for the reliability tests: QSettings in a folder of each test's own;
makes ``reliability_kit`` (child-process helpers) importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture
def isolated_qsettings(qapp, tmp_path_factory):
    """QSettings read and written in a fresh folder; the dark theme again afterwards."""
    from PySide6.QtCore import QSettings

    from nnstudio.ui.theme import THEMES

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    qapp.setOrganizationName("nnstudio-tests")
    qapp.setApplicationName("nnstudio-tests")
    yield folder
    THEMES.set("dark")
    qapp.setStyleSheet("")
