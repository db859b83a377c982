"""Where nnstudio's data files live."""

from __future__ import annotations

import os
from pathlib import Path


def assets_dir() -> Path:
    """The ``assets/`` folder: templates, themes, icons.

    ``NNSTUDIO_ASSETS`` overrides it; otherwise it is the folder beside the package in
    a source checkout (the README installs nnstudio in editable mode).
    """
    env = os.environ.get("NNSTUDIO_ASSETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "assets"
