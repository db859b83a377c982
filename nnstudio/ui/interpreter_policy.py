"""Interpreter settings for while Python work runs on a background thread (a training
run, a data set loading behind a progress dialog): see :class:`RunInterpreterPolicy`."""

from __future__ import annotations

import gc
import sys


class RunInterpreterPolicy:
    """Interpreter settings for while any background work goes.

    * Python's cyclic garbage collector runs on the main thread only: left automatic, it
      runs in whichever thread happens to allocate — on a worker it would destroy the
      main thread's Qt objects, and on the main thread while a worker is half-way through
      a first import (scikit-learn pulling in pandas) it can meet objects not yet whole;
    * the GIL switch interval drops from 5 ms to 0.1 ms, so that the main thread, which
      gives the GIL back on every Qt call, gets it back at once and the window never
      waits for a worker's Python between two short torch operations.

    :meth:`hold` at a run's start, :meth:`release` at its end (nested runs count);
    :meth:`collect_if_due`, called from the main thread's timer, does what the automatic
    collector would have done, with the interpreter's thresholds — what pyqtgraph's
    GarbageCollector does.  Objects alive at the start are frozen (``gc.freeze``) so that
    these collections only look at what the run made: no long pause on the main thread.
    """

    SWITCH_INTERVAL_S = 0.0001
    holds = 0
    was_enabled = True
    interval = 0.005

    @classmethod
    def hold(cls) -> None:
        if cls.holds == 0:
            cls.was_enabled = gc.isenabled()
            gc.disable()
            gc.freeze()
            cls.interval = sys.getswitchinterval()
            sys.setswitchinterval(min(cls.interval, cls.SWITCH_INTERVAL_S))
        cls.holds += 1

    @classmethod
    def release(cls) -> None:
        if cls.holds == 0:
            return
        cls.holds -= 1
        if cls.holds == 0:
            sys.setswitchinterval(cls.interval)
            gc.unfreeze()
            if cls.was_enabled:
                gc.enable()

    @staticmethod
    def collect_if_due() -> None:
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if t0 and c0 > t0:
            gc.collect(2 if c1 > t1 and c2 > t2 else 1 if c1 > t1 else 0)
