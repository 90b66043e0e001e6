"""The composer offers only what the platform allows, and the server refuses the rest with the
reason, from the page and through the API alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.ingest.services import ingest_batch
from inbox.models import Message, Team, Ticket
from tests.factories import author, item, make_channel
from tests.inbox.api.conftest import bearer
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


def _ticket(support, kind: str, ticket_kind: str, *, at: dt.datetime | None = None, **extra):
    channel = make_channel(kind=kind, default_team=support, settings={"seed": 1, "per_poll": 0})
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                f"{kind}-1",
                thread=f"{ticket_kind}:1",
                kind=ticket_kind,
                at=at,
                author=author("c1", display_name="Mia"),
                **extra,
            )
        ],
    )
    return Ticket.objects.get(channel=channel)


@pytest.fixture
def anna(client, support):
    client.force_login(person("anna", team=support))
    return client


def _composer(client, ticket) -> str:
    html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    return html[html.index('id="composer"') :]


def test_a_dm_offers_a_private_message_and_no_public_reply(anna, support):
    html = _composer(anna, _ticket(support, "x_demo", "dm"))
    assert 'value="dm"' in html
    assert 'value="public"' not in html


def test_a_review_offers_a_public_reply_and_no_private_message(anna, support):
    html = _composer(anna, _ticket(support, "reviews_demo", "review", rating=2))
    assert 'value="public"' in html
    assert 'value="dm"' not in html
    assert 'value="private"' not in html


def test_an_x_ticket_counts_with_xs_weighting_up_to_280(anna, support):
    html = _composer(anna, _ticket(support, "x_demo", "mention"))
    assert 'data-limit="280"' in html
    assert "&quot;url_length&quot;: 23" in html


def test_messenger_says_how_long_the_window_is_still_open(anna, support):
    at = timezone.now() - dt.timedelta(hours=20)
    html = _composer(anna, _ticket(support, "messenger_demo", "dm", at=at))
    assert "Messenger window: replies possible for 3" in html


def test_messenger_says_why_a_reply_is_not_possible_after_24_hours(anna, support):
    at = timezone.now() - dt.timedelta(hours=30)
    html = _composer(anna, _ticket(support, "messenger_demo", "dm", at=at))
    assert "More than 24 hours since the customer&#x27;s last message" in html
    assert "window: replies possible" not in html


def test_hide_is_offered_on_a_comment_and_not_on_a_dm(anna, support):
    comment = _ticket(support, "facebook_demo", "comment")
    dm = _ticket(support, "messenger_demo", "dm")
    assert (
        "Hide on platform" in anna.get(reverse("inbox:thread", args=[comment.pk])).content.decode()
    )
    assert (
        "Hide on platform" not in anna.get(reverse("inbox:thread", args=[dm.pk])).content.decode()
    )


def test_hiding_a_dm_is_refused(anna, support):
    dm = _ticket(support, "messenger_demo", "dm")
    message = Message.objects.get(ticket=dm)
    response = anna.post(
        reverse("inbox:hide", args=[dm.pk]), {"message": message.pk, "hidden": "1"}
    )
    assert response.status_code == 409
    assert "cannot be hidden" in response.content.decode()
    message.refresh_from_db()
    assert not message.hidden


def test_the_page_refuses_a_public_reply_to_a_dm_with_the_reason(anna, support):
    ticket = _ticket(support, "x_demo", "dm")
    response = anna.post(
        reverse("inbox:reply", args=[ticket.pk]), {"text": "Hello", "mode": "public"}
    )
    assert "a public reply is not possible" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, direction="out").exists()


def test_the_api_refuses_a_public_reply_to_a_dm_with_the_reason(client, support):
    ticket = _ticket(support, "messenger_demo", "dm")
    agent = person("bo", team=support)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/reply",
        {"text": "Hello", "mode": "public"},
        content_type="application/json",
        **bearer(agent),
    )
    assert response.status_code in (400, 409, 422)
    assert "public reply is not possible" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, direction="out").exists()


def test_the_api_refuses_a_private_message_to_a_reviewer_with_the_reason(client, support):
    ticket = _ticket(support, "reviews_demo", "review", rating=1)
    agent = person("bo", team=support)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/reply",
        {"text": "Hello", "mode": "dm"},
        content_type="application/json",
        **bearer(agent),
    )
    assert response.status_code in (400, 409, 422)
    assert "A review is answered in public" in response.content.decode()
