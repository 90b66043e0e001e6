"""The per-number send rate, shared by every worker through the cache."""

import pytest

from channels.base import RateLimited
from channels.whatsapp import throughput


@pytest.fixture(autouse=True)
def _nothing_known_full():
    # What a process learnt of earlier slots; these tests' clocks all start at the same time.
    throughput._full_slot.clear()


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_number_sends_at_most_its_rate_in_any_second():
    clock = FakeClock()
    times = []
    for _ in range(400):
        throughput.acquire("111", 80, clock=clock, sleep=clock.sleep)
        times.append(clock.now)
    start = times[0]
    for t in times:
        in_window = [u for u in times if t <= u < t + 1.0]
        assert len(in_window) <= 88  # 80 a second, plus at most one slot's worth at an edge
    assert times[-1] - start == pytest.approx(4.9, abs=0.11)  # 400 at 80/s: five seconds


def test_two_numbers_do_not_share_a_rate():
    clock = FakeClock()
    for _ in range(8):
        throughput.acquire("111", 80, clock=clock, sleep=clock.sleep)
        throughput.acquire("222", 80, clock=clock, sleep=clock.sleep)
    assert clock.now == 1_000_000.0  # neither had to wait


def test_a_paused_number_waits_and_a_long_pause_gives_the_worker_back():
    import datetime as dt

    clock = FakeClock()
    throughput.pause("111", dt.datetime.fromtimestamp(clock.now + 2, tz=dt.UTC))
    throughput.acquire("111", 80, clock=clock, sleep=clock.sleep)
    assert clock.now >= 1_000_002.0
    throughput.pause("111", dt.datetime.fromtimestamp(clock.now + 600, tz=dt.UTC))
    with pytest.raises(RateLimited):
        throughput.acquire("111", 80, clock=clock, sleep=clock.sleep, max_wait=5)


def test_senders_behind_one_that_found_the_slot_full_wait_without_taking_a_place():
    from django.core.cache import cache

    clock = FakeClock()
    slot = int(clock.now / throughput.SLOT_SECONDS)
    for _ in range(9):  # eight places, and the ninth sender finds the slot full
        throughput.acquire("111", 80, clock=clock, sleep=clock.sleep)
    clock.now = (slot + 0.5) * throughput.SLOT_SECONDS  # another thread, same slot
    throughput.acquire("111", 80, clock=clock, sleep=clock.sleep)
    assert cache.get(throughput._slot_key("111", slot)) == 9  # not asked again
    assert cache.get(throughput._slot_key("111", slot + 1)) == 2  # both went in the next
