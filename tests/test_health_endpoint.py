"""The health endpoint tells whether database, broker, worker and beat are alive."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from channels.heartbeat import BEAT_TASK_NAME, WORKER_KEY
from channels.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_health_reports_a_live_worker_and_beat(client):
    heartbeat()
    PeriodicTask.objects.filter(name=BEAT_TASK_NAME).update(last_run_at=timezone.now())
    body = client.get("/healthz").json()
    assert body["database"] is True and body["broker"] is True
    assert body["worker"] is True and body["beat"] is True


def test_health_reports_a_silent_worker_as_down_but_stays_serving(client):
    cache.delete(WORKER_KEY)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] is False


def test_a_heartbeat_schedule_exists_after_migrating():
    task = PeriodicTask.objects.get(name=BEAT_TASK_NAME)
    assert task.task == "channels.tasks.heartbeat" and task.enabled
