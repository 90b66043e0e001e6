"""The demo's simulated channels: one per kind of platform, each sending its platform's own
payloads through that platform's real normaliser, stored by the real poll, and answered with
what that platform allows."""

from __future__ import annotations

from collections import Counter

import pytest

from channels.polling import channel_poll
from channels.registry import appearance, connector_class
from inbox.models import Message, Ticket
from tests.factories import make_channel

pytestmark = pytest.mark.django_db


def _polled(kind: str, count: int = 40):
    channel = make_channel(kind=kind, settings={"seed": 5, "per_poll": count})
    channel_poll(channel)
    return channel, Ticket.objects.filter(channel=channel)


def _attachment_kinds(channel) -> Counter:
    return Counter(
        a.kind for m in Message.objects.filter(channel=channel) for a in m.attachments.all()
    )


def test_the_x_channel_brings_mentions_with_replies_and_dms_with_x_icon_and_count():
    channel, tickets = _polled("x_demo")

    assert set(tickets.values_list("kind", flat=True)) == {"mention", "dm"}
    assert appearance(channel.kind)[:2] == ("𝕏", "X")
    # A follow-up in a mention's conversation joins its ticket (X's conversation_id).
    assert Message.objects.filter(channel=channel).count() > tickets.count()
    # X counts a URL as 23 and an emoji as 2, whatever their length.
    assert channel.connector_class.count_text("https://example.com/" + "a" * 60) == 23
    assert channel.connector_class.count_text("😀") == 2


def test_the_facebook_channel_brings_comments_some_with_a_photo():
    channel, tickets = _polled("facebook_demo", 50)

    assert set(tickets.values_list("kind", flat=True)) == {"comment"}
    assert _attachment_kinds(channel)["image"] >= 1
    assert appearance(channel.kind)[1] == "Facebook"


def test_the_messenger_channel_brings_dms_with_photos_stickers_and_locations():
    channel, tickets = _polled("messenger_demo", 120)

    assert set(tickets.values_list("kind", flat=True)) == {"dm"}
    assert {"image", "sticker", "location"} <= set(_attachment_kinds(channel))
    # Named as the profile look-up of a live channel would.
    assert all(t.identity.display_name for t in tickets)


def test_the_review_site_brings_reviews_with_stars_some_edited():
    channel, tickets = _polled("reviews_demo", 40)

    assert set(tickets.values_list("kind", flat=True)) == {"review"}
    assert all(1 <= t.rating <= 5 for t in tickets)
    assert Message.objects.filter(channel=channel, edited_at__isnull=False).exists()


def test_a_photo_is_fetched_from_the_demo_images_shipped_with_the_code():
    channel, _tickets = _polled("facebook_demo", 50)
    attachment = next(
        a for m in Message.objects.filter(channel=channel) for a in m.attachments.all()
    )
    connector = channel.connector()
    from channels.base import InboundAttachment, media_url_allowed

    request = connector.media_request(InboundAttachment(kind="image", url=attachment.url))
    assert request.url.startswith("file://")
    assert media_url_allowed(connector, request.url)


@pytest.mark.parametrize(
    ("kind", "ticket_kind", "modes"),
    [
        ("x_demo", "mention", ("public", "dm")),
        ("x_demo", "dm", ("dm",)),
        ("facebook_demo", "comment", ("public", "private")),
        ("messenger_demo", "dm", ("dm",)),
        ("reviews_demo", "review", ("public",)),
        ("simulator_instagram", "dm", ("dm",)),
        ("whatsapp_demo", "dm", ("dm",)),
    ],
)
def test_each_kind_offers_the_reply_modes_of_its_platform(kind, ticket_kind, modes):
    assert connector_class(kind).reply_modes_for(ticket_kind) == modes


def test_hide_is_offered_on_facebook_comments_only():
    facebook = connector_class("facebook_demo")
    assert facebook.can_hide("comment")
    assert not facebook.can_hide("review")
    assert not connector_class("messenger_demo").can_hide("dm")
    assert not connector_class("reviews_demo").can_hide("review")
