"""Operational endpoints: is every part of the system alive?"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from channels.heartbeat import BEAT_TASK_NAME, WORKER_KEY

# A heartbeat runs every 30 s; after this long without one, the part counts as down.
STALE_AFTER = dt.timedelta(seconds=120)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def _broker() -> bool:
    if not settings.REDIS_URL:
        return True  # the filesystem broker has no server to be down
    try:
        import redis

        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except Exception:  # noqa: BLE001
        return False


def _fresh(moment: dt.datetime | None) -> bool:
    return moment is not None and timezone.now() - moment < STALE_AFTER


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker, worker and beat. 200 when web can serve (database up), else 503.

    Worker and beat liveness are reported, not required: the web UI keeps working (reading,
    notes, queueing replies) while they are down.
    """
    from django_celery_beat.models import PeriodicTask

    database = _database()
    worker_seen = None
    beat_seen = None
    try:
        worker_seen = cache.get(WORKER_KEY)
    except Exception:  # noqa: BLE001 - a cache outage is reported below, not raised
        worker_seen = None
    if database:
        beat_seen = (
            PeriodicTask.objects.filter(name=BEAT_TASK_NAME)
            .values_list("last_run_at", flat=True)
            .first()
        )
    body = {
        "database": database,
        "broker": _broker(),
        "worker": _fresh(worker_seen),
        "beat": _fresh(beat_seen),
        "worker_seen": worker_seen.isoformat() if worker_seen else None,
        "beat_seen": beat_seen.isoformat() if beat_seen else None,
    }
    return JsonResponse(body, status=200 if database else 503)
