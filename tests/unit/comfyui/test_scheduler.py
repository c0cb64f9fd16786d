"""PromptScheduler: per-server windows, least-loaded placement, order, reservations, cancel."""

from __future__ import annotations

import threading
import time

import pytest

from videogen_adapters.comfyui.scheduler import PromptScheduler
from videogen_core import Cancelled, CancelToken

_HELD: list = []  # a slot context dropped unreferenced would be closed (released) at once


def hold(lease, cancel=None):
    """Enter a slot and keep it until the returned release() is called."""
    ctx = lease.slot(cancel)
    _HELD.append(ctx)
    index, client = ctx.__enter__()
    return index, client, lambda: ctx.__exit__(None, None, None)


def test_window_bounds_prompts_per_server_and_a_freed_slot_goes_on():
    s = PromptScheduler(["a"], window=2)
    _, _, free_a = hold(s.lease(0, 1))
    hold(s.lease(1, 1))
    assert s.in_flight() == [2]
    got: list[int] = []
    waiting = threading.Thread(target=lambda: got.append(hold(s.lease(2, 1))[0]))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and got == []  # the window is full
    free_a()
    waiting.join(5)
    assert got == [0] and s.in_flight() == [2]


def test_scenes_spread_to_the_least_loaded_server():
    s = PromptScheduler(["a", "b"], window=2)
    placed = [hold(s.lease(i, 1))[1] for i in range(4)]
    assert sorted(placed) == ["a", "a", "b", "b"]
    assert s.in_flight() == [2, 2]


def test_reserved_segments_count_as_load_and_continuations_stay():
    s = PromptScheduler(["a", "b"], window=2)
    long_scene = s.lease(0, 3)  # 3 chained segments
    _, client, release = hold(long_scene)
    assert client == "a"
    # a holds 1 prompt + 2 reserved segments: the next two scenes go to b
    assert [hold(s.lease(i, 1))[1] for i in (1, 2)] == ["b", "b"]
    release()
    for _ in range(2):  # later segments come back to a even though it is the busier one
        _, client, release = hold(long_scene)
        assert client == "a"
        release()
    assert s.in_flight() == [0, 2]


def test_close_gives_back_the_reservation_of_segments_that_will_not_run():
    s = PromptScheduler(["a", "b"], window=2)
    lease = s.lease(0, 5)
    release = hold(lease)[2]
    release()
    lease.close()  # the scene failed after its first segment
    # without the reservation both servers are idle again: a, being first, is chosen
    assert hold(s.lease(1, 1))[1] == "a"


def test_the_scene_that_asked_first_gets_the_next_slot():
    s = PromptScheduler(["a"], window=1)
    release = hold(s.lease(0, 1))[2]
    order: list[int] = []
    threads = []
    for k in (5, 3, 4):  # they ask in this order, but order 3 started first
        lease = s.lease(k, 1)

        def run(lease=lease, k=k):
            _, _, done = hold(lease)
            order.append(k)
            done()
        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
        time.sleep(0.05)
    release()
    for t in threads:
        t.join(5)
    assert order == [3, 4, 5]


def test_cancel_while_waiting_for_a_slot():
    s = PromptScheduler(["a"], window=1)
    hold(s.lease(0, 1))
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    with pytest.raises(Cancelled):
        hold(s.lease(1, 1), token)
    assert s.in_flight() == [1]


def test_no_servers_is_an_error():
    with pytest.raises(ValueError):
        PromptScheduler([])


def test_the_scene_with_most_segments_left_goes_first():
    s = PromptScheduler(["a"], window=1)
    s._servers[0].in_flight = 1  # someone's prompt runs
    order: list[int] = []
    threads = []
    # (order, required server, segments left): a continuation with 2 left, two single scenes
    for k, server, remaining in ((5, None, 1), (3, 0, 2), (1, None, 1)):
        def take(k=k, server=server, remaining=remaining):
            s._acquire(k, server, remaining, None)
            order.append(k)
        threads.append(threading.Thread(target=take))
        threads[-1].start()
        time.sleep(0.05)
    for _ in range(3):
        s._release(0)
        time.sleep(0.1)
    for t in threads:
        t.join(5)
    assert order == [3, 1, 5]


def test_later_scenes_wait_for_an_earlier_scene_to_be_placed():
    s = PromptScheduler(["a"], window=2)
    first = s.lease(0, 1)  # taken (in order) but its thread is not at the scheduler yet
    got: list[int] = []
    later = threading.Thread(target=lambda: got.append(hold(s.lease(1, 1))[0]))
    later.start()
    later.join(0.3)
    assert later.is_alive()
    hold(first)
    later.join(5)
    assert got == [0]


def test_a_chained_segment_keeps_its_slot_for_the_next_segment():
    s = PromptScheduler(["a"], window=1)
    chain = s.lease(0, 2)
    release = hold(chain)[2]
    got: list[str] = []
    later = threading.Thread(target=lambda: got.append(hold(s.lease(1, 1))[1]))
    later.start()
    time.sleep(0.05)
    release()  # segment 0 executed; segment 1 still downloading its seed frame
    later.join(0.3)
    assert later.is_alive() and got == []  # the slot waits for segment 1
    release = hold(chain)[2]  # no waiting
    release()  # the last segment gives the slot back
    later.join(5)
    assert got == ["a"]


def test_a_kept_slot_goes_to_a_scene_with_more_segments_left():
    s = PromptScheduler(["a"], window=1)
    short_chain = s.lease(0, 2)
    release = hold(short_chain)[2]
    got: list[str] = []
    long_chain = s.lease(1, 3)
    later = threading.Thread(target=lambda: got.append(hold(long_chain)[1]))
    later.start()
    time.sleep(0.05)
    release()  # the waiting scene has 3 segments left, ours 1: it gets the slot
    later.join(5)
    assert got == ["a"]


def test_closing_a_failed_chain_gives_back_its_kept_slot():
    s = PromptScheduler(["a"], window=1)
    chain = s.lease(0, 3)
    hold(chain)[2]()
    assert s.in_flight() == [1]
    chain.close()
    assert s.in_flight() == [0]


def test_a_server_marked_down_gets_no_new_scene_until_its_cooldown_ends():
    s = PromptScheduler(["a", "b"], window=2, down_cooldown=0.3)
    lease = s.lease(0, 2)
    with lease.slot() as (index, _):
        assert index == 0
        assert s.mark_down(0)  # b is up: the scene may go there
        lease.move()
    assert s.in_flight() == [0, 0]
    with lease.slot() as (index, _):
        assert index == 1 and lease.server == 1
    # b keeps a slot for the scene's segment 1; a is down, so the next scene goes to b
    # too, and the one after waits (b is full) until a's down time has run out
    started = time.monotonic()
    assert [hold(s.lease(k, 1))[1] for k in (1, 2)] == ["b", "a"]
    assert time.monotonic() - started > 0.2
