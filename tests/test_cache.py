"""With Redis down, the cache answers "nothing cached" instead of failing the page."""

import pytest

from webcare.cache import TolerantRedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def dead_redis_cache():
    # Nothing listens on port 1: every call fails to connect at once.
    return TolerantRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})


def test_reading_from_a_dead_redis_is_a_miss(dead_redis_cache):
    assert dead_redis_cache.get("presence:1") is None
    assert dead_redis_cache.get_many(["a", "b"]) == {}


def test_writing_to_a_dead_redis_is_dropped_quietly(dead_redis_cache):
    dead_redis_cache.set("presence:1", {"anna"}, 30)
    assert dead_redis_cache.add("lock", 1) is False


def test_a_live_redis_still_caches(settings):
    cache = TolerantRedisCache(settings.REDIS_URL, {})
    cache.set("webcare-test-key", "value", 10)
    assert cache.get("webcare-test-key") == "value"


def test_a_place_and_another_key_are_read_together(settings):
    cache = TolerantRedisCache(settings.REDIS_URL, {})
    cache.delete("webcare-test-slot")
    cache.set("webcare-test-pause", 12.5, 10)
    assert cache.hit_and_get("webcare-test-slot", 5, "webcare-test-pause") == (1, 12.5)
    assert cache.hit_and_get("webcare-test-slot", 5, "webcare-test-none") == (2, None)


def test_a_place_from_a_dead_redis_is_no_count(dead_redis_cache):
    assert dead_redis_cache.hit_and_get("slot", 5, "pause") == (0, None)
