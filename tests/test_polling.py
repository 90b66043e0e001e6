"""Polling: cursor committed with the batch, failures recorded, one channel never blocks another."""

import datetime as dt

import pytest
from django.utils import timezone

from channels import health
from channels.base import AuthError, Connector, FetchResult, RateLimited, TemporaryError
from channels.models import Channel, HealthState
from channels.registry import register
from channels.tasks import poll_channel
from inbox.ingest.services import tickets_ingested
from inbox.models import Message
from tests.factories import item, make_channel

pytestmark = pytest.mark.django_db


@register
class BrokenConnector(Connector):
    """A platform that fails the way its settings say."""

    kind = "test_broken"

    def fetch(self, cursor):
        error = self.channel.settings.get("error", "temporary")
        if error == "auth":
            raise AuthError("Error validating access token: Session has expired")
        if error == "rate":
            raise RateLimited("Too Many Requests", until=timezone.now() + dt.timedelta(minutes=7))
        if error == "malformed":
            return FetchResult(items=[item("x1")], cursor={"broken": {1, 2}})  # not JSON
        raise TemporaryError("503 Service Unavailable")


def test_a_poll_stores_new_items_and_moves_the_cursor():
    channel = make_channel(settings={"seed": 1, "per_poll": 7})
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.cursor["seq"] == 7
    assert Message.objects.filter(channel=channel).count() > 0
    assert channel.health_state == HealthState.OK and channel.last_success_at


def test_a_crash_between_fetch_and_commit_fetches_the_same_items_again():
    channel = make_channel(settings={"seed": 3, "per_poll": 6})

    def crash(**kwargs):
        raise RuntimeError("worker died mid-batch")

    tickets_ingested.connect(crash)
    try:
        poll_channel(channel.pk)
    finally:
        tickets_ingested.disconnect(crash)
    channel.refresh_from_db()
    assert channel.cursor == {}  # rolled back with the batch
    assert Message.objects.count() == 0
    assert channel.health_state == HealthState.DEGRADED

    Channel.objects.filter(pk=channel.pk).update(next_poll_at=None)
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.cursor["seq"] == 6
    stored = set(Message.objects.values_list("external_id", flat=True))
    assert {f"sim-3-{n}" for n in range(6)} >= stored and len(stored) >= 5


def test_a_failing_channel_records_its_error_and_backs_off():
    channel = make_channel(kind="test_broken", settings={"error": "temporary"}, poll_interval=30)
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert channel.last_error == "503 Service Unavailable"
    assert channel.consecutive_failures == 1
    assert channel.next_poll_at > timezone.now() + dt.timedelta(seconds=50)
    assert poll_channel(channel.pk) == "skipped: backing off"


def test_a_failing_channel_does_not_block_another():
    broken = make_channel(kind="test_broken", settings={"error": "temporary"})
    healthy = make_channel(settings={"seed": 5, "per_poll": 4})
    poll_channel(broken.pk)
    poll_channel(healthy.pk)
    healthy.refresh_from_db()
    assert healthy.health_state == HealthState.OK
    assert Message.objects.filter(channel=healthy).exists()


def test_expired_credentials_put_the_channel_in_needs_reconnect_with_the_platform_message():
    channel = make_channel(kind="test_broken", settings={"error": "auth"})
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert "Session has expired" in channel.last_error


def test_a_rate_limit_waits_until_the_platform_lets_us_back():
    channel = make_channel(kind="test_broken", settings={"error": "rate"})
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.RATE_LIMITED
    assert channel.rate_limited_until == channel.next_poll_at
    assert channel.rate_limited_until > timezone.now() + dt.timedelta(minutes=6)


def test_a_malformed_page_is_recorded_not_stored_half():
    channel = make_channel(kind="test_broken", settings={"error": "malformed"})
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert Message.objects.count() == 0


def test_a_second_poll_of_a_busy_channel_steps_aside():
    channel = make_channel()
    assert health.acquire_poll_lease(channel.pk, 60)
    assert poll_channel(channel.pk) == "skipped: another poll is running"


def test_a_disabled_channel_is_not_polled():
    channel = make_channel(enabled=False)
    assert poll_channel(channel.pk) == "skipped: gone or disabled"


def test_success_after_failures_restores_health():
    channel = make_channel()
    health.record_failure(channel.pk, TemporaryError("timeout"))
    Channel.objects.filter(pk=channel.pk).update(next_poll_at=None)
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK and channel.consecutive_failures == 0
