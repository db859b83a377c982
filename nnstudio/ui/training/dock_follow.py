"""How the Training panel follows a run: the runner's batches become run records and
view updates, repainted at most every ``REPAINT_MS``, only the page in view.  A mixin of
:class:`~.dock.TrainingDock` (it uses ``current``, ``pages``, ``curves``, ``progress``,
``status``, ``runs_view`` and the repaint timer).

Every moment the main thread spends here is a moment the trainer may wait for the GIL:
measured on a 2-core machine, a main thread busy in Python 3 % of the time slowed a
training thread by 10-15 % (GIL hand-overs and the caches they cool).  Hence one repaint
per batch at most, the progress bar painted once, and the window settled before a run
starts (benchmarks/training_overhead.py).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from .panel_parts import fmt_time
from .plot_style import PlotPanel
from .worker import UpdateBatch

REPAINT_MS = 100  # views repaint at most 10 times a second


class DockFollowing:
    def _settle(self) -> None:
        """Lay out and paint the window's new state now, before the trainer starts.  The
        first paint after pressing Train is the largest one (locked editor, reset plots,
        a new row of runs); done later it would hold the main thread, and the GIL, while
        the run's first steps wait.  The person sees the run start before it works."""
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        top = self.window()
        if top.isVisible():
            top.repaint()

    def _on_batch(self, batch: UpdateBatch) -> None:
        record = self.current
        if record is None:
            return
        if batch.run is not None:
            planned = record.config.get("epochs")
            record.start(batch.run)
            if batch.run.epochs != planned:  # set at the start already, unless it differs
                self.curves.set_epoch_span(batch.run.epochs)
        if batch.steps:
            record.add_steps(batch.steps)
            self._progress_dirty = True
        if batch.epochs:
            record.add_epochs(batch.epochs)
            self._runs_dirty = True
        if batch.evals:
            record.add_evals(batch.evals)
            last = next((ev for ev in reversed(batch.evals) if ev.split == "val"), batch.evals[-1])
            self.evaluation.set_eval(last)
        if batch.activations is not None:
            self.activations.set_frame(batch.activations)
        if batch.boundary is not None:
            self.boundary.set_boundary(batch.boundary)
        if batch.previews:
            self.live.set_previews(batch.previews)
        if batch.steps or batch.epochs:
            self.curves.note_new_data()
        self._schedule_repaint()

    def _show_progress(self, s) -> None:
        total = max(s.total_steps, 1)
        epochs = self.current.info.epochs if self.current and self.current.info else "?"
        # QProgressBar.setValue repaints at once (synchronously); with updates off, the
        # bar is painted once, with its new text, by the next paint of the window
        self.progress.setUpdatesEnabled(False)
        self.progress.setRange(0, total)
        self.progress.setValue(min(s.global_step, total))
        self.progress.setFormat(f"epoch {s.epoch}/{epochs} · {s.global_step / total:.0%}")
        self.progress.setUpdatesEnabled(True)
        self.status.setText(f"loss {s.loss:.4g} · {s.samples_per_s:,.0f} samples/s · "
                            f"ETA {fmt_time(s.eta_s)}")

    def _schedule_repaint(self) -> None:
        """Repaint now if the last repaint is REPAINT_MS old (the usual case: batches come
        at that rate), else once it is — one wake-up of the main thread, not two."""
        if self._repaint_timer.isActive():
            return
        wait = REPAINT_MS - (time.perf_counter() - self._repainted_at) * 1000
        if wait <= REPAINT_MS * 0.1:
            self._repaint()
        else:
            self._repaint_timer.start(int(wait))

    def _repaint(self, *_args) -> None:
        self._repainted_at = time.perf_counter()
        if self._progress_dirty and self.current is not None and self.current.last_step:
            self._progress_dirty = False
            self._show_progress(self.current.last_step)
        page = self.pages.currentWidget()
        if isinstance(page, PlotPanel) and page.dirty and page.isVisible():
            page.refresh()
        if self._runs_dirty and self.current is not None:
            self._runs_dirty = False
            self.runs_view.update_run(self.current)
