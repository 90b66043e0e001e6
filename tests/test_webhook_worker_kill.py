"""Webhook deliveries survive a lost broker queue and a worker killed with SIGKILL mid-ingest.

Real processes: signed X deliveries are posted to the real view (the 200 goes out) while no
worker runs; the broker then loses the queued tasks of half of them (a restart without
persistence); a worker takes one and is killed with SIGKILL after it claimed the delivery and
before its ingest stored anything; a new worker and beat (with the sweep) start. Every message
ends up stored exactly once and every delivery processed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from channels.models import DeliveryState, WebhookDelivery
from inbox.models import Message
from tests.channels.x.conftest import CREDENTIALS, make_x_channel, raw
from tests.processes import Processes, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TWEETS = [f"18600000000000001{n:02d}" for n in range(6)]


def _delivery(tweet_id: str) -> bytes:
    body = json.loads(raw("webhook_tweet_create.json"))
    event = body["tweet_create_events"][0]
    event.update(id=int(tweet_id), id_str=tweet_id, text=f"@acme_care order {tweet_id[-2:]}?")
    return json.dumps(body).encode()


def _post(client, body: bytes):
    digest = hmac.new(CREDENTIALS["consumer_secret"].encode(), body, hashlib.sha256).digest()
    return client.post(
        "/webhooks/x/",
        data=body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE="sha256=" + base64.b64encode(digest).decode(),
    )


@pytest.fixture
def broker():
    from webcare.celery import app

    def purge() -> None:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")

    purge()
    return purge


@pytest.fixture
def procs():
    # Short lease and stall so the test need not wait minutes; the sweep runs every second.
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="sweep webhook deliveries",
        defaults={"task": "channels.tasks.sweep_webhook_deliveries", "interval": every},
    )
    processes = Processes(
        settings.REDIS_URL,
        WEBHOOK_LEASE_SECONDS="3",
        WEBHOOK_STALL_SECONDS="2",
        WEBCARE_TEST_SLOW_INGEST="60",
    )
    yield processes
    processes.stop_all()


def test_a_killed_worker_and_a_lost_queue_lose_no_webhook_delivery(client, broker, procs):
    channel = make_x_channel()

    # Received while no worker runs: each answered 200 only once its body is stored.
    for tweet in TWEETS[:3]:
        assert _post(client, _delivery(tweet)).status_code == 200
    broker()  # the broker loses these three tasks
    for tweet in TWEETS[3:]:
        assert _post(client, _delivery(tweet)).status_code == 200
    assert WebhookDelivery.objects.filter(state=DeliveryState.RECEIVED).count() == 6

    # A worker claims a delivery and is killed (SIGKILL) before its ingest stores anything.
    slow = procs.worker("slow")
    assert wait_for(lambda: WebhookDelivery.objects.filter(attempts=1).exists(), 60), procs.logs()
    procs.kill(slow)
    assert not Message.objects.exists()

    # A new worker and beat: the queued tasks run, the sweep re-queues the rest.
    procs.env["WEBCARE_TEST_SLOW_INGEST"] = ""
    procs.worker("fresh")
    procs.beat()
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(state=DeliveryState.PROCESSED).count() == 6, 90
    ), procs.logs()

    stored = list(Message.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert sorted(stored) == TWEETS
    # The killed worker's delivery was taken again after its lease: two attempts, one message.
    assert WebhookDelivery.objects.filter(attempts=2).count() == 1
    # The same deliveries again (X retrying): answered, nothing stored twice.
    for tweet in TWEETS:
        assert _post(client, _delivery(tweet)).json() == {"ok": True, "replay": True}
    assert Message.objects.count() == 6
