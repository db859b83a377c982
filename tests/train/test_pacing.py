"""The pacer that bounds the side jobs of training (activation capture, previews, the
decision boundary) by rate and by share of the time."""

import pytest

from nnstudio.train.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cheap_job_runs_at_the_full_rate():
    clock = Clock()
    pacer = Pacer(10.0, 0.01, clock)
    assert pacer.due()
    pacer.ran(clock.now, cost=0.0001)  # 0.1 ms: 1 % of it is far below the rate's 100 ms
    clock.now += 0.099
    assert not pacer.due()
    clock.now += 0.002
    assert pacer.due()


def test_a_costly_job_is_held_to_its_share_of_the_time():
    clock = Clock()
    pacer = Pacer(10.0, 0.01, clock)
    started = clock.now
    clock.now += 0.05  # the job took 50 ms: at 1 % the next may start 5 s after this one
    pacer.ran(started)
    assert pacer.last_cost == pytest.approx(0.05)
    clock.now = started + 4.9
    assert not pacer.due()
    clock.now = started + 5.0
    assert pacer.due()


def test_reset_lets_the_next_job_run_at_once():
    clock = Clock()
    pacer = Pacer(1.0, 0.5, clock)
    pacer.ran(clock.now, cost=10.0)
    assert not pacer.due()
    pacer.reset()
    assert pacer.due()


@pytest.mark.parametrize("rate, share", [(0.0, 0.1), (5.0, 0.0), (5.0, 1.5)])
def test_nonsense_bounds_are_refused(rate, share):
    with pytest.raises(ValueError):
        Pacer(rate, share)
