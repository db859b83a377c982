"""Pause, resume and stop a running trainer from another thread.

The trainer asks :meth:`RunControl.should_check` before every step (one
``Event.is_set`` call, cheap enough for the hot loop).  A paused trainer blocks
in :meth:`RunControl.wait_while_paused` on an Event, so it burns no CPU and
wakes the moment ``resume()`` or ``stop()`` is called.
"""

from __future__ import annotations

import threading


class RunControl:
    """Thread-safe run state shared by the trainer and whoever drives it (UI, CLI, tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._paused = False
        # set while the trainer may run freely: the hot loop looks only at this one
        self._running = threading.Event()
        self._running.set()
        # set when a paused trainer should wake up (resume or stop)
        self._wake = threading.Event()
        self._wake.set()
        # set while the trainer is actually parked in wait_while_paused
        self._held = threading.Event()

    # ------------------------------------------------------------ driver side
    def pause(self) -> None:
        """Ask the trainer to pause before its next step.  No effect once stopped."""
        with self._lock:
            if self._stopped:
                return
            self._paused = True
            self._running.clear()
            self._wake.clear()

    def resume(self) -> None:
        """Let a paused trainer go on."""
        with self._lock:
            self._paused = False
            if not self._stopped:
                self._running.set()
            self._wake.set()

    def stop(self) -> None:
        """Ask the trainer to stop before its next step; wakes it if paused.  Final."""
        with self._lock:
            self._stopped = True
            self._running.clear()
            self._wake.set()

    @property
    def paused(self) -> bool:
        """True between ``pause()`` and ``resume()`` (and not stopped)."""
        return self._paused and not self._stopped

    @property
    def stopped(self) -> bool:
        """True once ``stop()`` has been called."""
        return self._stopped

    def wait_until_held(self, timeout: float | None = None) -> bool:
        """Block until the trainer has actually parked after ``pause()``; False on timeout."""
        return self._held.wait(timeout)

    # ----------------------------------------------------------- trainer side
    def should_check(self) -> bool:
        """True when the trainer must look at the state (paused or stopped)."""
        return not self._running.is_set()

    def wait_while_paused(self) -> bool:
        """Park while paused; return True to go on, False if the run was stopped."""
        while self.paused:
            self._held.set()
            try:
                self._wake.wait()
            finally:
                self._held.clear()
        return not self._stopped
