"""Sending at the number's rate, shared by every worker: a counter per phone number per slot.

Why a shared counter and not Celery's ``rate_limit``: Celery limits a task type per worker
process, so N workers would send N × the rate, and one limit cannot differ per number. Here each
send takes a place in the current slot of its number (``cache.incr`` on one key, atomic in
Redis); a full slot means waiting for the next one. Slots are a tenth of a second, so a number
allowed 80 messages a second sends 8 per slot: evenly spread, never more than 80 in any second
plus one slot, and well under Meta's limit in any window Meta measures. A 130429 (throughput
reached) pauses the number for every worker (:func:`pause`).

Per attempt that is one round trip with Redis (the pause read and the place taken pipelined,
``TolerantRedisCache.hit_and_get``). The sending threads of one process (a batch,
``inbox.replies.batch``) ask one at a time, and once one has found a slot full the others sleep
to the next slot without asking: twenty threads waking at a slot's start no longer spend twenty
round trips to hear that eight may go.

With the embedded default's file cache, ``incr`` is not atomic across processes; a race may
let a few extra sends through, which Meta answers with 130429 and the pause absorbs.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from ..base import RateLimited

SLOT_SECONDS = 0.1
# The longest a send waits for its turn before giving its worker back (the reply is retried).
MAX_WAIT_SECONDS = 20.0
# Seconds a slot's counter lives in the cache (long past its slot).
SLOT_TTL = 5

# Per number, the last slot this process found full, and the lock its senders ask under.
_full_slot: dict[str, int] = {}
_asking: dict[str, threading.Lock] = {}


def _slot_key(number: str, slot: int) -> str:
    return f"wa:rate:{number}:{slot}"


def _pause_key(number: str) -> str:
    return f"wa:pause:{number}"


def acquire(
    number: str,
    per_second: int,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = MAX_WAIT_SECONDS,
) -> None:
    """Wait until ``number`` may send one more message; raise :class:`RateLimited` instead of
    waiting longer than ``max_wait``."""
    per_second = max(1, int(per_second))
    slot_seconds = max(SLOT_SECONDS, 1.0 / per_second)
    per_slot = max(1, math.floor(per_second * slot_seconds))
    deadline = clock() + max_wait
    while True:
        now = clock()
        slot = int(now / slot_seconds)
        try:
            placed, paused_until = _place(number, slot, per_slot)
        except ValueError:  # the key expired between add and incr: take the next round
            continue
        if paused_until > now:
            if paused_until > deadline:
                raise RateLimited(
                    "WhatsApp throughput reached; this number is paused.",
                    until=dt.datetime.fromtimestamp(paused_until, tz=dt.UTC),
                )
            sleep(paused_until - now)
            continue
        if placed:
            return
        wait = (slot + 1) * slot_seconds - now
        if now + wait > deadline:
            raise RateLimited(
                "Sending at this number's rate: the queue is ahead of it.",
                until=dt.datetime.fromtimestamp(now + wait, tz=dt.UTC),
            )
        sleep(wait)


def _place(number: str, slot: int, per_slot: int) -> tuple[bool, float]:
    """Whether this send has a place in ``slot``, and until when the number is paused (0 if it
    is not). The senders of this process ask one at a time, so those behind one that found the
    slot full learn it without asking."""
    with _asking.setdefault(number, threading.Lock()):
        if _full_slot.get(number) == slot:
            return False, 0.0
        taken, paused_until = _take(number, slot)
        if taken and taken > per_slot:
            _full_slot[number] = slot
            return False, paused_until
        # No count (0 or None): the cache is down (the tolerant Redis cache); Meta's 130429
        # still guards.
        return True, paused_until


def _take(number: str, slot: int) -> tuple[int | None, float]:
    """A place in ``slot`` (its number, counting from 1) and until when the number is paused
    (0 if it is not): one round trip on Redis, three calls on another cache."""
    key, pause_key = _slot_key(number, slot), _pause_key(number)
    combined: Any = getattr(cache, "hit_and_get", None)
    if combined is not None:
        taken, paused_until = combined(key, SLOT_TTL, pause_key)
        return taken, paused_until or 0.0
    paused_until = cache.get(pause_key) or 0.0
    cache.add(key, 0, timeout=SLOT_TTL)
    return cache.incr(key), paused_until


def pause(number: str, until: dt.datetime) -> None:
    """Meta said the number's throughput is reached: every worker waits until ``until``."""
    stamp = until.timestamp()
    current = cache.get(_pause_key(number)) or 0.0
    if stamp > current:
        cache.set(_pause_key(number), stamp, timeout=max(1, int(stamp - time.time()) + 5))
