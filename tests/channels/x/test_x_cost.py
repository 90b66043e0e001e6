"""The estimated monthly X bill on the channel's page, from the counts the poll keeps.

X bills reads per resource returned (posts, users, DM events) and writes per request, at unit
prices it publishes and changes (docs.x.com/x-api/getting-started/pricing); ours are settings.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from channels.health import record_post
from channels.tasks import poll_channel
from channels.x.counting import estimated_cost
from tests.personas import person

from .conftest import DM_EVENTS, MENTIONS, load, make_x_channel

pytestmark = pytest.mark.django_db

PRICES = {
    "X_PRICE_POST_READ": Decimal("0.005"),
    "X_PRICE_USER_READ": Decimal("0.010"),
    "X_PRICE_DM_EVENT_READ": Decimal("0.010"),
    "X_PRICE_CONTENT_CREATE": Decimal("0.015"),
}


def test_a_poll_counts_the_resources_x_bills(api):
    channel = make_x_channel(settings={})
    api.get(MENTIONS, json=load("mention_original.json"))
    dms = load("dm_events.json")
    dms["meta"].pop("next_token")
    api.get(DM_EVENTS, json=dms)

    poll_channel(channel.pk)

    channel.refresh_from_db()
    # 1 post and its author; 3 DM events and their 2 participants.
    assert channel.usage["post_reads"] == 1
    assert channel.usage["user_reads"] == 3
    assert channel.usage["dm_event_reads"] == 3
    assert channel.usage["reads"] == 2  # calls, for the read budget


def test_the_estimate_is_the_counts_at_the_unit_prices():
    usage = {"month": "2031-03", "post_reads": 1000, "user_reads": 200, "dm_event_reads": 50,
             "posts": 40, "reads": 30}  # fmt: skip

    total, parts = estimated_cost(usage, PRICES)

    # 1000 × 0.005 + 200 × 0.010 + 50 × 0.010 + 40 × 0.015
    assert total == Decimal("8.10")
    assert parts == ["1000 posts read", "200 users read", "50 DM events read", "40 replies sent"]


def test_the_channel_page_shows_the_estimate_at_the_configured_prices(api, client):
    channel = make_x_channel()
    api.get(MENTIONS, json=load("mention_original.json"))
    poll_channel(channel.pk)
    record_post(channel.pk)
    client.force_login(person("ada", "admin"))
    url = reverse("channels:edit", args=[channel.pk])

    page = client.get(url).content.decode()
    # 1 × 0.005 + 1 × 0.010 + 1 × 0.015 = 0.03
    assert "≈ $0.03 this month (1 posts read, 1 users read, 1 replies sent)" in page

    with override_settings(X_PRICE_CONTENT_CREATE=Decimal("0.200")):
        page = client.get(url).content.decode()
    assert "≈ $0.22 this month" in page


def test_channels_of_platforms_without_per_use_billing_show_no_estimate(client):
    from tests.factories import make_channel

    channel = make_channel("simulator")
    client.force_login(person("ada", "admin"))

    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()

    assert "Estimated platform cost" not in page
