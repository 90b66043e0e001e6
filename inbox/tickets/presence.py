"""Who is looking at or typing in a ticket, kept in the cache with short lifetimes.

The cache is Redis in production and a file cache in the embedded default: both are shared by
every web process. Each ticket has one entry {user_id: [name, typing, seen_at]}; browsers refresh
theirs every few seconds, so an entry lost to two concurrent writes comes back at the next beat,
and a closed tab disappears after ``TTL`` seconds.
"""

from __future__ import annotations

import time

from django.core.cache import cache

TTL = 12


def _key(ticket_id: int) -> str:
    return f"presence:{ticket_id}"


def presence_touch(*, ticket_id: int, user, typing: bool) -> None:
    now = time.time()
    entry = {
        uid: value
        for uid, value in (cache.get(_key(ticket_id)) or {}).items()
        if now - value[2] < TTL
    }
    entry[user.pk] = [user.get_full_name() or user.get_username(), typing, now]
    cache.set(_key(ticket_id), entry, TTL)


def presence_leave(*, ticket_id: int, user) -> None:
    entry = cache.get(_key(ticket_id)) or {}
    if entry.pop(user.pk, None) is not None:
        cache.set(_key(ticket_id), entry, TTL)


def others(ticket_id: int, user) -> list[dict]:
    return others_many([ticket_id], user).get(ticket_id, [])


def others_many(ticket_ids: list[int], user) -> dict[int, list[dict]]:
    """For each ticket, the colleagues other than ``user`` viewing or typing now."""
    if not ticket_ids:
        return {}
    now = time.time()
    found = cache.get_many([_key(t) for t in ticket_ids])
    result: dict[int, list[dict]] = {}
    for ticket_id in ticket_ids:
        entry = found.get(_key(ticket_id)) or {}
        people = [
            {"name": name, "typing": typing}
            for uid, (name, typing, seen) in entry.items()
            if uid != user.pk and now - seen < TTL
        ]
        if people:
            result[ticket_id] = sorted(people, key=lambda p: p["name"])
    return result
