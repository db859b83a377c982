"""Training in the window: a background worker thread, the Training panel and its live
views (curves, decision boundary, activations, evaluation, data, runs).

The trainer itself (:mod:`nnstudio.train`) knows no Qt; :mod:`.worker` adapts its
callbacks to Qt at a bounded rate, and :func:`install_training` mounts the panel,
its menu and toolbar in the main window.
"""

from importlib import import_module

from .install import TrainingController, install_training

# the panel's modules import pyqtgraph: loaded on first use, not with the window
_LAZY = {"LOCK_REASON": ".dock", "TrainingDock": ".dock", "RunDiff": ".run_diff",
         "diff_runs": ".run_diff", "TrainingRunner": ".worker", "UpdateBatch": ".worker"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "LOCK_REASON",
    "RunDiff",
    "TrainingController",
    "TrainingDock",
    "TrainingRunner",
    "UpdateBatch",
    "diff_runs",
    "install_training",
]
