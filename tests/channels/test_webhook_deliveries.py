"""A webhook delivery is never lost: stored before the 200, processed only after ingest commits.

Tasks run in-process here (eager); a queued retry's countdown is therefore not waited for, and
the sweep (``channels.intake.sweep``) is what a test runs once the clock has moved on, as beat
would. The worker-kill variant with a real Celery worker is tests/test_webhook_worker_kill.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

import inbox.ingest.services
from channels import intake, tasks
from channels.models import DeliveryState, WebhookDelivery
from inbox.models import Message
from tests.channels.facebook.support import APP_SECRET, page_channel, signed
from tests.channels.facebook.support import raw as meta_raw
from tests.channels.x.conftest import CREDENTIALS, make_x_channel, raw

pytestmark = pytest.mark.django_db

TWEET = "1860000000000000030"


def _x_post(client, body: bytes):
    import base64
    import hashlib
    import hmac

    digest = hmac.new(CREDENTIALS["consumer_secret"].encode(), body, hashlib.sha256).digest()
    signature = "sha256=" + base64.b64encode(digest).decode()
    return client.post(
        "/webhooks/x/",
        data=body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=signature,
    )


@pytest.fixture
def ingest_fails(monkeypatch):
    """Make ``inbox.ingest.services.ingest_batch`` raise for the next ``fails[0]`` calls."""
    real = inbox.ingest.services.ingest_batch
    fails = [1]

    def flaky(**kwargs):
        if fails[0] > 0:
            fails[0] -= 1
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(inbox.ingest.services, "ingest_batch", flaky)
    return fails


def _later(seconds: float):
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=seconds), tick=True)


def test_an_ingest_that_fails_once_keeps_the_delivery_and_its_retry_stores_the_message_once(
    client, settings, ingest_fails
):
    channel = make_x_channel()
    body = raw("webhook_tweet_create.json")

    assert _x_post(client, body).status_code == 200

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.RECEIVED
    assert delivery.attempts == 1 and "database went away" in delivery.last_error
    assert not Message.objects.exists()
    # X retries the delivery (its answer got lost): answered, not stored twice, not yet due.
    assert _x_post(client, body).json() == {"ok": True, "replay": True}
    assert WebhookDelivery.objects.count() == 1

    wait = settings.WEBHOOK_RETRY_SECONDS + settings.WEBHOOK_STALL_SECONDS + 1
    with _later(wait):
        assert intake.sweep() == 1

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED and delivery.attempts == 2
    assert delivery.last_error == ""
    assert Message.objects.filter(channel=channel, external_id=TWEET).count() == 1


def test_a_failed_meta_ingest_is_not_lost_when_meta_redelivers(client, settings, ingest_fails):
    settings.META_APP_SECRET = APP_SECRET
    channel = page_channel()
    body = meta_raw("webhook_comment_add.json")

    def deliver():
        return client.post(
            "/webhooks/facebook/", data=body, content_type="application/json", **signed(body)
        )

    assert deliver().status_code == 200
    assert deliver().status_code == 200  # Meta's redelivery

    assert not Message.objects.exists()
    with _later(settings.WEBHOOK_RETRY_SECONDS + settings.WEBHOOK_STALL_SECONDS + 1):
        intake.sweep()
    assert Message.objects.filter(channel=channel).count() == 1
    assert WebhookDelivery.objects.get().state == DeliveryState.PROCESSED


def test_retries_back_off_exponentially():
    assert [intake.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert intake.backoff(40) == dt.timedelta(hours=1)


def test_a_delivery_is_not_retried_before_its_backoff_is_over(client, settings, ingest_fails):
    make_x_channel()
    _x_post(client, raw("webhook_tweet_create.json"))

    with _later(settings.WEBHOOK_RETRY_SECONDS - 5):
        assert intake.sweep() == 0
        tasks.process_webhook_delivery(WebhookDelivery.objects.get().pk)

    assert WebhookDelivery.objects.get().attempts == 1
    assert not Message.objects.exists()


def test_a_delivery_that_keeps_failing_becomes_failed_after_the_last_attempt(
    client, settings, ingest_fails
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    ingest_fails[0] = 100
    make_x_channel()
    _x_post(client, raw("webhook_tweet_create.json"))

    for hours in (1, 2, 3):
        with _later(hours * 3600):
            intake.sweep()

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 3
    with _later(4 * 3600):
        assert intake.sweep() == 0  # failed waits for an admin
    assert WebhookDelivery.objects.get().attempts == 3


def test_a_delivery_whose_task_was_lost_with_the_broker_is_picked_up_by_the_sweep(
    client, settings, monkeypatch
):
    channel = make_x_channel()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.process_webhook_delivery, "apply_async", broker_down)
    assert _x_post(client, raw("webhook_tweet_create.json")).status_code == 200
    assert WebhookDelivery.objects.get().state == DeliveryState.RECEIVED
    monkeypatch.undo()

    assert intake.sweep() == 0  # not overdue yet: its task may still be on its way
    with _later(settings.WEBHOOK_STALL_SECONDS + 1):
        assert intake.sweep() == 1

    assert Message.objects.filter(channel=channel, external_id=TWEET).count() == 1
    assert WebhookDelivery.objects.get().state == DeliveryState.PROCESSED


def test_a_delivery_held_by_a_killed_worker_is_taken_again_after_its_lease(client, settings):
    channel = make_x_channel()
    delivery, _ = intake.store(
        kind="x", body=raw("webhook_tweet_create.json"), channel_ids=[channel.pk]
    )
    # A worker claimed it and died: attempts counted, lease running, nothing stored.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=timezone.now() + dt.timedelta(seconds=60)
    )

    assert intake.sweep() == 0
    tasks.process_webhook_delivery(delivery.pk)
    assert WebhookDelivery.objects.get().attempts == 1  # the lease holds
    with _later(60 + settings.WEBHOOK_STALL_SECONDS + 1):
        assert intake.sweep() == 1

    assert WebhookDelivery.objects.get().state == DeliveryState.PROCESSED
    assert Message.objects.filter(external_id=TWEET).count() == 1


def test_a_delivery_processed_twice_stores_its_message_once(client):
    make_x_channel()
    _x_post(client, raw("webhook_tweet_create.json"))
    delivery = WebhookDelivery.objects.get()
    # Processed, but the worker died before it could say so: it runs again.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.RECEIVED, next_attempt_at=timezone.now()
    )

    tasks.process_webhook_delivery(delivery.pk)

    assert WebhookDelivery.objects.get().state == DeliveryState.PROCESSED
    assert Message.objects.filter(external_id=TWEET).count() == 1


def test_old_processed_deliveries_are_pruned_and_failed_ones_kept_longer(client, settings):
    make_x_channel()
    _x_post(client, raw("webhook_tweet_create.json"))
    failed, _ = intake.store(kind="x", body=b'{"for_user_id": "1"}', channel_ids=[])
    WebhookDelivery.objects.filter(pk=failed.pk).update(state=DeliveryState.FAILED)

    with _later((settings.WEBHOOK_KEEP_DAYS + 1) * 86400):
        intake.sweep()

    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["failed"]


# --- what the admin sees ----------------------------------------------------------------------
@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_user("ada", password="pw-123456789")
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    client.force_login(user)
    return client


def test_the_channel_page_shows_waiting_and_failed_deliveries_and_retries_a_failed_one(
    admin_client, settings, ingest_fails, monkeypatch
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    channel = make_x_channel()
    other = raw("webhook_dm.json")
    ingest_fails[0] = 1
    _x_post(admin_client, raw("webhook_tweet_create.json"))  # fails for good at once
    with monkeypatch.context() as broker_down:
        broker_down.setattr(intake, "dispatch", lambda pk: None)  # this one waits
        _x_post(admin_client, other)

    page = admin_client.get(reverse("channels:edit", args=[channel.pk])).content.decode()

    assert "Webhook deliveries" in page
    assert "Waiting to be stored</dt><dd>1<" in page
    assert "Failed</dt><dd>1<" in page and "database went away" in page

    failed = WebhookDelivery.objects.get(state=DeliveryState.FAILED)
    response = admin_client.post(reverse("channels:delivery_retry", args=[channel.pk, failed.pk]))

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PROCESSED
    assert Message.objects.filter(external_id=TWEET).count() == 1


def test_only_admins_may_retry_a_delivery(client):
    channel = make_x_channel()
    delivery, _ = intake.store(kind="x", body=b"{}", channel_ids=[channel.pk])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
    user = get_user_model().objects.create_user("bo", password="pw-123456789")
    user.groups.add(Group.objects.get_or_create(name="agent")[0])
    client.force_login(user)

    response = client.post(reverse("channels:delivery_retry", args=[channel.pk, delivery.pk]))

    assert response.status_code in (302, 403)
    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED
