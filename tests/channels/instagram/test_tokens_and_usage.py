"""Connecting, the token's automatic refresh, and Meta's usage headers in channel health."""

import datetime as dt
import json

import pytest
import responses
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from channels.instagram.client import usage_from_headers
from channels.instagram.tokens import token_refresh
from channels.models import Channel, HealthState
from channels.tasks import poll_channel
from tests.channels.instagram.support import ACCOUNT_ID, HANDLE, TOKEN, channel, graph, graph_error

pytestmark = pytest.mark.django_db
REFRESH = "https://graph.instagram.com/refresh_access_token"


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_user("ada", password="pw-123456789")
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    client.force_login(user)
    return client


@responses.activate
def test_an_admin_connects_an_instagram_account(admin_client):
    admin_client.post(
        reverse("channels:new") + "?kind=instagram",
        {
            "kind": "instagram",
            "name": "Shop on Instagram",
            "poll_interval": 120,
            "enabled": "on",
            "secret_access_token": TOKEN,
            "setting_media_depth": 5,
            "setting_usage_backoff_percent": 90,
        },
    )
    ch = Channel.objects.get(name="Shop on Instagram")
    assert ch.credentials["access_token"] == TOKEN
    # GET graph.instagram.com/me?fields=user_id,username,... (Instagram API with Instagram
    # Login, "Get started": the app user's id and username).
    responses.get(
        graph("me"),
        json={
            "user_id": ACCOUNT_ID,
            "username": HANDLE,
            "name": "Webcare Demo Shop",
            "account_type": "BUSINESS",
            "id": "7412345678901234",
        },
    )
    page = admin_client.post(reverse("channels:test", args=[ch.pk]), follow=True)
    assert HANDLE in page.content.decode()
    ch.refresh_from_db()
    assert ch.own_account_id == ACCOUNT_ID
    assert ch.own_handle == HANDLE
    assert TOKEN not in admin_client.get(reverse("channels:edit", args=[ch.pk])).content.decode()


@responses.activate
def test_a_token_near_its_expiry_is_refreshed_and_stored_encrypted():
    now = timezone.now()
    ch = channel(
        credentials={
            "access_token": TOKEN,
            "refreshed_at": (now - dt.timedelta(days=55)).isoformat(),
            "expires_at": (now + dt.timedelta(days=5)).isoformat(),
        }
    )
    responses.get(
        REFRESH, json={"access_token": "IGAAT-new", "token_type": "bearer", "expires_in": 5183944}
    )
    assert token_refresh(ch) == "refreshed"
    ch.refresh_from_db()
    assert ch.credentials["access_token"] == "IGAAT-new"
    expires = dt.datetime.fromisoformat(ch.credentials["expires_at"])
    assert expires - now > dt.timedelta(days=59)
    assert responses.calls[0].request.params["grant_type"] == "ig_refresh_token"


def test_a_token_refreshed_less_than_a_day_ago_is_left_alone():
    now = timezone.now()
    ch = channel(
        credentials={
            "access_token": TOKEN,
            "refreshed_at": (now - dt.timedelta(hours=3)).isoformat(),
            "expires_at": (now + dt.timedelta(days=9)).isoformat(),
        }
    )
    with responses.RequestsMock():  # any call would fail the test
        assert token_refresh(ch) == "not due"


@responses.activate
def test_a_refused_refresh_makes_the_channel_need_reconnect_now():
    now = timezone.now()
    ch = channel(
        credentials={
            "access_token": TOKEN,
            "refreshed_at": (now - dt.timedelta(days=58)).isoformat(),
            "expires_at": (now + dt.timedelta(days=2)).isoformat(),
        }
    )
    responses.get(REFRESH, json=graph_error(190, "Error validating access token", 463), status=400)
    token_refresh(ch)
    ch.refresh_from_db()
    assert ch.health_state == HealthState.NEEDS_RECONNECT
    assert "the token has expired" in ch.last_error


def test_a_token_that_could_not_be_refreshed_warns_before_it_expires():
    start = timezone.now()
    ch = channel(
        credentials={
            "access_token": TOKEN,
            "refreshed_at": start.isoformat(),
            "expires_at": (start + dt.timedelta(days=3)).isoformat(),
        }
    )
    with time_machine.travel(start + dt.timedelta(hours=2), tick=False):
        assert token_refresh(ch).startswith("warning")
    ch.refresh_from_db()
    assert ch.health_state == HealthState.DEGRADED
    assert "token expires on" in ch.last_error


def test_usage_headers_give_the_highest_percentage_and_the_wait():
    headers = {
        "X-App-Usage": json.dumps({"call_count": 12, "total_time": 30, "total_cputime": 8}),
        "X-Business-Use-Case-Usage": json.dumps(
            {
                ACCOUNT_ID: [
                    {
                        "type": "instagram",
                        "call_count": 93,
                        "total_cputime": 10,
                        "total_time": 20,
                        "estimated_time_to_regain_access": 12,
                    }
                ]
            }
        ),
    }
    assert usage_from_headers(headers) == {"percent": 93.0, "regain_minutes": 12}
    assert usage_from_headers({"X-App-Usage": "not json"}) == {}


@responses.activate
def test_the_poll_backs_off_before_metas_limit_when_usage_is_high():
    ch = channel()
    usage = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                ACCOUNT_ID: [
                    {
                        "type": "instagram",
                        "call_count": 95,
                        "total_cputime": 10,
                        "total_time": 20,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
        )
    }
    responses.get(graph(f"{ACCOUNT_ID}/media"), json={"data": []}, headers=usage)
    responses.get(graph(f"{ACCOUNT_ID}/conversations"), json={"data": []}, headers=usage)
    poll_channel(ch.pk)
    Channel.objects.filter(pk=ch.pk).update(next_poll_at=None)
    calls = len(responses.calls)
    poll_channel(ch.pk)
    ch.refresh_from_db()
    assert len(responses.calls) == calls  # the second poll did not call Meta
    assert ch.health_state == HealthState.RATE_LIMITED
    assert "95% of Instagram's rate limit" in ch.last_error


@responses.activate
def test_channel_health_shows_the_token_expiry_and_the_reported_usage(admin_client):
    now = timezone.now()
    ch = channel(
        credentials={
            "access_token": TOKEN,
            "refreshed_at": now.isoformat(),
            "expires_at": (now + dt.timedelta(days=59)).isoformat(),
        }
    )
    usage = {"X-App-Usage": json.dumps({"call_count": 42, "total_time": 7, "total_cputime": 3})}
    responses.get(graph(f"{ACCOUNT_ID}/media"), json={"data": []}, headers=usage)
    responses.get(graph(f"{ACCOUNT_ID}/conversations"), json={"data": []}, headers=usage)
    poll_channel(ch.pk)
    page = admin_client.get(reverse("channels:list")).content.decode()
    assert f"Token valid until {(now + dt.timedelta(days=59)):%Y-%m-%d}" in page
    assert "Rate limit used: 42%" in page
