"""A Redis cache that degrades instead of failing when Redis is down.

Webcare keeps only soft state in the cache (who is viewing a ticket, throttles): losing it for a
minute is fine, a 500 on every page is not. Reads answer "nothing cached", writes are dropped,
and each failure is logged. Sessions and log-in lockouts live in the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _tolerant(name: str, fallback: Any):
    def method(self, *args, **kwargs):
        try:
            return getattr(super(TolerantRedisCache, self), name)(*args, **kwargs)
        except RedisError as exc:
            log.warning("cache %s failed, carrying on without it: %s", name, exc)
            return fallback() if callable(fallback) else fallback

    method.__name__ = name
    return method


class TolerantRedisCache(RedisCache):
    get = _tolerant("get", None)
    get_many = _tolerant("get_many", dict)
    set = _tolerant("set", None)
    set_many = _tolerant("set_many", list)
    add = _tolerant("add", False)
    touch = _tolerant("touch", False)
    delete = _tolerant("delete", False)
    delete_many = _tolerant("delete_many", None)
    has_key = _tolerant("has_key", False)
    incr = _tolerant("incr", 0)
    clear = _tolerant("clear", None)

    def hit(self, key: str, timeout: int) -> int:
        """Count one more use of ``key`` (created at 0 with ``timeout`` seconds to live when
        missing) in ONE round trip: ``SET NX EX`` and ``INCR`` pipelined. ``add`` then ``incr``
        took three (Django's ``incr`` asks ``EXISTS`` first). 0 while Redis is down."""
        full = self.make_and_validate_key(key)
        try:
            pipe = self._cache.get_client(full, write=True).pipeline(transaction=False)
            pipe.set(full, 0, ex=timeout, nx=True)
            pipe.incr(full)
            return int(pipe.execute()[1])
        except RedisError as exc:
            log.warning("cache hit failed, carrying on without it: %s", exc)
            return 0
