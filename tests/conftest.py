import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch

# The CI machine has two cores; keep torch from oversubscribing them.
torch.set_num_threads(1)


import pytest


@pytest.fixture(autouse=True)
def _private_recovery_folder(tmp_path_factory, monkeypatch):
    """Autosave and crash-recovery files of any window a test opens go to a fresh folder
    of that test, never the person's own (and no earlier test's leftovers are offered)."""
    monkeypatch.setenv("NNSTUDIO_RECOVERY_DIR", str(tmp_path_factory.mktemp("recovery")))
    monkeypatch.delenv("NNSTUDIO_RECOVERY_ANSWER", raising=False)
    monkeypatch.delenv("NNSTUDIO_AUTOSAVE_MS", raising=False)


@pytest.fixture(autouse=True)
def _shipped_templates(monkeypatch):
    """Templates come from the shipped assets; a test that wants another folder sets
    ``NNSTUDIO_ASSETS`` itself (monkeypatch), after this."""
    monkeypatch.delenv("NNSTUDIO_ASSETS", raising=False)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (long fuzz runs) are for ``python -m benchmarks`` and for
    ``pytest -m slow``; a plain ``pytest`` (CI) skips them and runs their short forms."""
    if "slow" in (config.getoption("-m") or "") or os.environ.get("NNSTUDIO_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long run: python -m benchmarks, or pytest -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
