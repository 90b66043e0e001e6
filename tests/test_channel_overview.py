"""Channel health for admins: what needs attention first, error counters, and every change of a
channel audited without its secrets."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from channels import health
from channels.base import AuthError, RateLimited, TemporaryError
from channels.models import Channel, HealthState
from channels.overview import health_overview
from inbox.models import Activity, Team
from tests.factories import make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return person("ada", "admin")


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


def test_the_most_urgent_problem_leads():
    degraded = make_channel(name="A degraded")
    limited = make_channel(name="B limited")
    reconnect = make_channel(name="C reconnect")
    health.record_failure(degraded.pk, TemporaryError("502 from platform"))
    health.record_failure(limited.pk, RateLimited("slow down"))
    health.record_failure(reconnect.pk, AuthError("revoked"))

    assert [c.pk for c in health_overview()] == [reconnect.pk, limited.pk, degraded.pk]


def test_a_channel_silent_for_many_intervals_needs_attention():
    channel = make_channel(poll_interval=60)
    Channel.objects.filter(pk=channel.pk).update(
        last_success_at=timezone.now() - dt.timedelta(minutes=30)
    )
    (row,) = health_overview()
    assert "No successful poll for a while" in row.attention


def test_a_disabled_channel_needs_no_attention():
    channel = make_channel(enabled=False)
    Channel.objects.filter(pk=channel.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    (row,) = health_overview()
    assert row.attention == ""


def test_errors_of_the_last_24_hours_are_counted_and_older_ones_forgotten():
    channel = make_channel()
    now = timezone.now()
    buckets = {}
    for hours_ago in (0, 1, 5, 23, 30, 47):
        buckets = health.count_error_hour(buckets, now - dt.timedelta(hours=hours_ago))
    buckets = health.count_error_hour(buckets, now)  # the write that prunes
    assert health.errors_last_24h(buckets, now) == 5  # 0 (twice), 1, 5 and 23 hours ago
    assert len(buckets) <= 25
    health.record_failure(channel.pk, TemporaryError("boom"))
    health.record_failure(channel.pk, TemporaryError("boom"))
    (row,) = health_overview()
    assert row.errors_24h == 2


def test_the_channel_list_shows_the_same_table_with_this_months_counters(admin_client):
    channel = make_channel(name="Shop")
    health.record_success(channel.pk, reads=2, items=3)
    health.record_failure(channel.pk, TemporaryError("boom"))
    html = admin_client.get(reverse("channels:list")).content.decode()
    assert f'data-channel="{channel.pk}"' in html and "Errors (24 h)" in html
    assert "errors 1 items 3 reads 2" in html


def test_health_states_are_not_written_by_the_overview():
    channel = make_channel()
    health_overview()
    assert Channel.objects.get(pk=channel.pk).health_state == HealthState.OK


def test_channel_create_update_and_toggle_are_audited(admin_client, ada):
    team = Team.objects.create(name="Social")
    admin_client.post(
        reverse("channels:new") + "?kind=simulator",
        {"kind": "simulator", "name": "Shop", "poll_interval": 60, "enabled": "on"},
    )
    channel = Channel.objects.get(name="Shop")
    admin_client.post(
        reverse("channels:edit", args=[channel.pk]),
        {
            "kind": "simulator",
            "name": "Shop NL",
            "poll_interval": 120,
            "enabled": "on",
            "default_team": team.pk,
        },
    )
    admin_client.post(reverse("channels:toggle", args=[channel.pk]))
    rows = list(
        Activity.objects.filter(verb__startswith="channel_")
        .order_by("pk")
        .values_list("verb", "actor_id", "before", "after")
    )
    assert [r[0] for r in rows] == ["channel_created", "channel_updated", "channel_disabled"]
    assert {r[1] for r in rows} == {ada.pk}
    assert rows[1][2] == {
        "channel": channel.pk,
        "name": "Shop",
        "poll_interval": 60,
        "default_team": None,
    }
    assert rows[1][3] == {
        "channel": channel.pk,
        "name": "Shop NL",
        "poll_interval": 120,
        "default_team": team.pk,
    }
    assert rows[2][3] == {"channel": channel.pk, "enabled": False}


def test_channel_credentials_never_enter_the_audit(admin_client):
    from tests.test_channel_pages import PageTestConnector  # noqa: F401 - registers the kind

    admin_client.post(
        reverse("channels:new") + "?kind=test_pages",
        {
            "kind": "test_pages",
            "name": "Secret",
            "poll_interval": 60,
            "enabled": "on",
            "secret_api_key": "s3cret-key-1",
        },
    )
    channel = Channel.objects.get(name="Secret")
    admin_client.post(
        reverse("channels:edit", args=[channel.pk]),
        {
            "kind": "test_pages",
            "name": "Secret",
            "poll_interval": 60,
            "enabled": "on",
            "secret_api_key": "s3cret-key-2",
        },
    )
    rows = Activity.objects.filter(verb__startswith="channel_").order_by("pk")
    assert [r.verb for r in rows] == ["channel_created", "channel_updated"]
    assert rows[0].after["credentials"] == "set" and rows[1].after == {
        "channel": channel.pk,
        "credentials": "changed",
    }
    assert "s3cret" not in str([(r.before, r.after) for r in rows])


def test_a_save_that_changes_nothing_writes_no_audit_row(ada):
    from channels.services import channel_update

    channel = make_channel(name="Same")
    before = Activity.objects.count()
    channel_update(channel=channel, name="Same", actor=ada)
    assert Activity.objects.count() == before


def test_django_admin_channel_changes_are_audited_too(client, ada):
    ada.is_staff = ada.is_superuser = True
    ada.save()
    client.force_login(ada)
    channel = make_channel(name="Old", poll_interval=60)
    response = client.post(
        reverse("admin:channels_channel_change", args=[channel.pk]),
        {
            "kind": "simulator",
            "name": "New",
            "settings": '{"seed": 1}',
            "poll_interval": 90,
            "enabled": "on",
            "default_team": "",
            "own_account_id": "",
            "own_handle": "",
            "new_credentials": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.name == "New" and channel.poll_interval == 90
    row = Activity.objects.filter(verb="channel_updated").get()
    assert row.actor == ada and row.after["name"] == "New" and row.after["poll_interval"] == 90
