"""Training in the window: a background worker thread, the Training panel and its live
views (curves, decision boundary, activations, evaluation, data, runs).

The trainer itself (:mod:`nnstudio.train`) knows no Qt; :mod:`.worker` adapts its
callbacks to Qt at a bounded rate, and :func:`install_training` mounts the panel,
its menu and toolbar in the main window.
"""

from .dock import LOCK_REASON, TrainingDock
from .install import TrainingController, install_training
from .run_diff import RunDiff, diff_runs
from .worker import TrainingRunner, UpdateBatch

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
