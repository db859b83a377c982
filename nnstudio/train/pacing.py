"""When a side job of training may run: the activation capture, the Live page's
previews, the decision boundary.

Each is bounded twice: at most ``max_rate_hz`` times a second, and at most ``share`` of
the wall time — after a job that took *t* seconds the next one waits at least
*t* / ``share``.  A cheap job on a small model runs at the full rate; on a large model
(or a slow device) the rate drops by itself, so watching a run never costs it more than
that share of its speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# the activation capture (probe pass + the pictures made from it) may take this much of
# the training thread's time.  Measured on the overhead benchmark's MLP: at 10 Hz it cost
# 2.7 %; the time booked is only part of what it costs (each probe pass also cools the
# caches the training steps use), so a quarter of a per cent booked costs about half a
# per cent: switched on and off every 0.3 s within runs, 0.991 of the throughput.  The
# capture of that MLP takes 1.1 ms (0.75 ms probe pass and statistics, 0.4 ms pictures),
# so its Activations page gets about two frames a second; a small model's, ten.
ACTIVATION_SHARE = 0.0025
PREVIEW_SHARE = 0.02  # the Live page's pictures (about once a second)
BOUNDARY_SHARE = 0.05  # the decision boundary of a 2-D classifier (cheap, and the show)


class Pacer:
    """``due()`` says whether the job may run now; ``ran(started)`` books one run."""

    def __init__(self, max_rate_hz: float, share: float,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if not (max_rate_hz > 0 and 0 < share <= 1):
            raise ValueError(f"need a positive rate and a share in (0, 1], got {max_rate_hz}, {share}")
        self.min_interval = 1.0 / max_rate_hz
        self.share = share
        self.clock = clock
        self._next = -float("inf")
        self.last_cost = 0.0

    def due(self) -> bool:
        return self.clock() >= self._next

    def reset(self) -> None:
        """The next call of :meth:`due` says yes (a new run)."""
        self._next = -float("inf")

    def ran(self, started: float, cost: float | None = None) -> None:
        """A job began at ``started`` (this pacer's clock) and took ``cost`` seconds
        (default: until now); the next may start after the rate and the share allow."""
        self.last_cost = self.clock() - started if cost is None else cost
        self._next = started + max(self.min_interval, self.last_cost / self.share)
