"""Lanes: at most `size` holders at once; the next waits, and past the wait bound is Busy."""

import threading
import time

import pytest

from opencx.platform import lanes
from opencx.platform.errors import Busy
from opencx.platform.lanes import Lanes, inbound_lanes


def test_a_holder_waits_for_the_one_before_it_to_leave():
    lane = Lanes("messages", size=1, wait_seconds=5, max_waiting=1)
    first_inside, let_first_go = threading.Event(), threading.Event()
    order = []

    def first():
        with lane.hold():
            first_inside.set()
            let_first_go.wait(5)
            order.append("first leaves")

    def second():
        with lane.hold():
            order.append("second enters")

    one = threading.Thread(target=first)
    one.start()
    assert first_inside.wait(5)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.2)
    assert two.is_alive() and order == []  # waiting for the lane, not running beside the first
    let_first_go.set()
    one.join(5)
    two.join(5)
    assert order == ["first leaves", "second enters"]


def test_lanes_beyond_the_first_run_side_by_side():
    lane = Lanes("messages", size=2, wait_seconds=0.05, max_waiting=1)
    with lane.hold(), lane.hold(), pytest.raises(Busy), lane.hold():
        pass  # pragma: no cover (never entered)
    with lane.hold():  # both were given back, the refused one took none
        pass


def test_no_lane_within_the_wait_bound_is_busy_and_says_when_to_send_again():
    lane = Lanes("inbound messages", size=1, wait_seconds=0.01, max_waiting=1)
    with lane.hold(), pytest.raises(Busy) as busy, lane.hold():
        pass  # pragma: no cover (never entered)
    assert busy.value.status == 503 and busy.value.retry_after == 1
    assert "busy storing other inbound messages" in busy.value.message


def test_an_error_inside_gives_the_lane_back():
    lane = Lanes("messages", size=1, wait_seconds=0.01, max_waiting=1)
    with pytest.raises(LookupError), lane.hold():
        raise LookupError("what the block raised")
    with lane.hold():
        pass


def test_with_as_many_waiting_as_may_the_next_is_busy_at_once():
    lane = Lanes("messages", size=1, wait_seconds=5, max_waiting=1)
    first_inside, let_first_go = threading.Event(), threading.Event()

    def first():
        with lane.hold():
            first_inside.set()
            let_first_go.wait(5)

    def waits():
        with lane.hold():
            pass

    one = threading.Thread(target=first)
    one.start()
    assert first_inside.wait(5)
    waiting = threading.Thread(target=waits)
    waiting.start()
    deadline = time.monotonic() + 5
    while lane._waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    began = time.monotonic()
    with pytest.raises(Busy), lane.hold():
        pass  # pragma: no cover (never entered)
    assert time.monotonic() - began < 1  # refused at once, not after the 5 s wait bound
    let_first_go.set()
    one.join(5)
    waiting.join(5)
    assert not waiting.is_alive() and lane._waiting == 0


def test_no_waiting_at_all_when_none_may_wait():
    lane = Lanes("messages", size=1, wait_seconds=5, max_waiting=0)
    with lane.hold(), pytest.raises(Busy), lane.hold():
        pass  # pragma: no cover (never entered)


def test_lane_and_waiting_counts_below_their_least_are_refused():
    with pytest.raises(ValueError, match="at least 1, not 0"):
        Lanes("messages", size=0, wait_seconds=1, max_waiting=1)
    with pytest.raises(ValueError, match="at least 0, not -1"):
        Lanes("messages", size=1, wait_seconds=1, max_waiting=-1)


def test_the_inbound_lanes_follow_the_settings(settings, monkeypatch):
    monkeypatch.setattr(lanes, "_inbound", None)
    settings.INBOUND_LANES, settings.INBOUND_WAIT_SECONDS, settings.INBOUND_WAITING = 3, 7.5, 2
    made = inbound_lanes()
    assert (made.size, made.wait_seconds, made.max_waiting) == (3, 7.5, 2)
    assert inbound_lanes() is made  # one set per process
