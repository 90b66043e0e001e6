"""X's usage cap: a 429 that no 15-minute wait cures.

The body is X's problem document for a spent plan cap (``title`` "UsageCapExceeded", ``period``
"Monthly", ``type`` ``…/problems/usage-capped``), as X returns it (github.com/xdevplatform/xdk
issue #25 quotes a full answer); its ``x-rate-limit-*`` headers show a window with room left,
which is why they must not decide the wait. The cap resets on the project's ``cap_reset_day``
(X's usage API, docs.x.com/x-api/usage/tweets), which the channel setting gives.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from channels.models import Channel, HealthState
from channels.tasks import poll_channel
from channels.x.client import next_cap_reset
from tests.personas import person

from .conftest import MENTIONS, load, make_x_channel

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 3, 14, 9, 30, tzinfo=dt.UTC)
# The headers X sent with its usage-cap answer: the 15-minute window is nearly unused.
HEADERS = {"x-rate-limit-limit": "40000", "x-rate-limit-remaining": "39999"}


def _capped(api):
    return api.get(MENTIONS, status=429, json=load("error_429_usage_cap.json"), headers=HEADERS)


@time_machine.travel(NOW, tick=False)
def test_the_monthly_cap_waits_until_the_first_of_next_month_and_says_so(api):
    channel = make_x_channel()
    capped = _capped(api)

    poll_channel(channel.pk)

    channel.refresh_from_db()
    resumes = dt.datetime(2031, 4, 1, tzinfo=dt.UTC)
    assert channel.health_state == HealthState.RATE_LIMITED
    assert channel.rate_limited_until == resumes
    assert channel.next_poll_at == resumes
    assert channel.last_error.startswith(
        "X monthly usage cap reached; polling resumes on 2031-04-01 00:00 UTC"
    )
    assert "Usage cap exceeded: Monthly product cap" in channel.last_error
    # Not every 15 minutes: the next day's polls do not call X at all.
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        assert poll_channel(channel.pk) == "skipped: backing off"
    assert capped.call_count == 1


@time_machine.travel(NOW, tick=False)
def test_the_cap_waits_for_the_billing_day_the_channel_names(api):
    channel = make_x_channel(settings={"fetch_dms": False, "usage_cap_reset_day": 20})
    _capped(api)

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert channel.rate_limited_until == dt.datetime(2031, 3, 20, tzinfo=dt.UTC)
    assert "polling resumes on 2031-03-20 00:00 UTC" in channel.last_error


@time_machine.travel(NOW, tick=False)
def test_the_channel_page_shows_the_cap_and_the_day_polling_resumes(api, client):
    channel = make_x_channel()
    _capped(api)
    poll_channel(channel.pk)
    client.force_login(person("ada", "admin"))

    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()

    assert "X monthly usage cap reached; polling resumes on 2031-04-01 00:00 UTC" in page
    assert "2031-04-01" in page


@time_machine.travel(NOW, tick=False)
def test_an_ordinary_429_still_waits_one_window(api):
    channel = make_x_channel()
    api.get(MENTIONS, status=429, json=load("error_429.json"))

    poll_channel(channel.pk)

    channel = Channel.objects.get(pk=channel.pk)
    assert channel.rate_limited_until == NOW + dt.timedelta(minutes=15)
    assert "usage cap" not in channel.last_error


@pytest.mark.parametrize(
    ("now", "day", "expected"),
    [
        (dt.datetime(2031, 12, 31, 23, 59, tzinfo=dt.UTC), None, dt.date(2032, 1, 1)),
        (dt.datetime(2031, 1, 30, tzinfo=dt.UTC), 31, dt.date(2031, 1, 31)),
        (dt.datetime(2031, 1, 31, tzinfo=dt.UTC), 31, dt.date(2031, 2, 28)),
        (dt.datetime(2032, 2, 10, tzinfo=dt.UTC), 30, dt.date(2032, 2, 29)),
        (dt.datetime(2031, 5, 10, tzinfo=dt.UTC), 10, dt.date(2031, 6, 10)),
    ],
    ids=["new year", "31st this month", "short month", "leap year", "the reset day itself"],
)
def test_the_next_reset_is_the_billing_day_after_now(now, day, expected):
    assert next_cap_reset(now, day) == dt.datetime.combine(expected, dt.time(), tzinfo=dt.UTC)
