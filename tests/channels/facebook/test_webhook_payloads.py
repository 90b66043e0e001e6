"""Page and Messenger webhook payloads in Meta's documented shapes, through the real endpoint.

Each fixture follows the shape documented by Meta (sources in docs/channels/facebook.md,
"Webhook payloads"):

- ``webhook_feed_*.json``, ``webhook_mention.json``, ``webhook_ratings.json``: the Page
  webhooks reference, fields ``feed`` (``item`` comment/photo/video/status/share, ``verb`` incl.
  ``edit``/``edited``, ``from`` or the older ``sender_id``/``sender_name``, ``photos[]``,
  ``link``, ``created_time`` optional), ``mention`` and ``ratings``
  (``reviewer_id``/``reviewer_name``, ``open_graph_story_id``, ``recommendation_type``,
  ``review_text``): https://developers.facebook.com/docs/graph-api/webhooks/reference/page/
- ``webhook_messaging_unsent.json`` / ``_unsupported.json``: ``message.is_deleted`` and
  ``message.is_unsupported`` of the ``messages`` event (Meta's Messenger and Instagram
  messaging webhook references list both flags on the message object):
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages
- ``webhook_messaging_product_template.json``: the "product template" message of the same page
  (``attachments[].payload.product.elements[]`` with ``id``, ``retailer_id``, ``image_url``,
  ``title``, ``subtitle``); ``webhook_messaging_generic_template_echo.json``: a template echo
  (``message_echoes`` reference, ``type: "template"``):
  https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
- ``webhook_messaging_postback_without_mid.json``: ``messaging_postbacks`` with ``title`` and
  ``payload`` (``mid`` left out, as older clients and Get Started taps deliver it):
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks
- ``webhook_messaging_policy_*.json``: ``messaging_policy_enforcement`` (``policy_enforcement``
  ``action`` block/warning/unblock and ``reason``):
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_policy_enforcement

Times inside the payloads are past dates that nothing compares with the clock.
"""

import json

import pytest
import responses
from django.urls import reverse

from channels.facebook import normalize
from channels.facebook.client import parse_time
from channels.models import HealthState
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, Direction, Message, Team, Ticket
from tests.channels.facebook.support import (
    PAGE_ID,
    PSID,
    graph,
    load,
    messenger_channel,
    page_channel,
    raw,
    signed,
)
from tests.personas import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meta_settings", "run_tasks_now")]


def deliver(client, name_or_payload, url="/webhooks/facebook/"):
    body = (
        raw(name_or_payload)
        if isinstance(name_or_payload, str)
        else json.dumps(name_or_payload).encode()
    )
    response = client.post(url, data=body, content_type="application/json", **signed(body))
    assert response.status_code == 200
    return response


def entry_of(name: str) -> dict:
    return load(name)["entry"][0]


def change_value(name: str, index: int = 0) -> dict:
    return entry_of(name)["changes"][index]["value"]


def messages(channel):
    return Message.objects.filter(channel=channel).order_by("sent_at", "pk")


# --- feed: times, edits, authors, media, links --------------------------------------------
def test_a_visitor_post_without_created_time_is_dated_by_the_entry_and_becomes_a_ticket(client):
    channel = page_channel()
    deliver(client, "webhook_feed_photo_post.json")
    post = Message.objects.get(channel=channel, external_id=f"{PAGE_ID}_900000000000021")
    assert post.sent_at == parse_time(entry_of("webhook_feed_photo_post.json")["time"])
    assert post.text == "My coat arrived torn, see the photo"
    assert post.ticket.kind == "post"
    assert post.ticket.thread_key == f"post:{PAGE_ID}_900000000000021"
    assert post.author_identity.display_name == "Dirk Jansen"


def test_a_comment_without_created_time_is_dated_by_the_entry_not_dropped():
    value = dict(change_value("webhook_comment_add.json"))
    del value["created_time"]
    found = normalize.feed_change(value, page_id=PAGE_ID, entry_time=1795171800)
    assert found.sent_at == parse_time(1795171800)
    assert found.text == "Do you ship to Belgium?"


def test_visitor_video_and_photo_posts_without_text_are_tickets_with_their_media_kept(client):
    channel = page_channel()
    deliver(client, "webhook_feed_video_and_status_posts.json")
    video = Message.objects.get(channel=channel, external_id=f"{PAGE_ID}_900000000000022")
    photos = Message.objects.get(channel=channel, external_id=f"{PAGE_ID}_900000000000023")
    # No "[video]"/"[photo]" placeholder: the media are the item's attachments.
    assert video.text == "" and photos.text == ""
    items = [
        normalize.feed_change(
            change_value("webhook_feed_video_and_status_posts.json", i), page_id=PAGE_ID
        )
        for i in (0, 1)
    ]
    assert [a.kind for a in items[0].attachments] == ["video"]
    assert [a.kind for a in items[1].attachments] == ["image"] * len(photos.raw["media"])
    assert video.raw["media"] == [change_value("webhook_feed_video_and_status_posts.json")["link"]]
    assert (
        photos.raw["media"] == change_value("webhook_feed_video_and_status_posts.json", 1)["photos"]
    )
    assert Ticket.objects.filter(channel=channel, kind="post").count() == 2


def test_the_edit_verb_replaces_the_stored_comment_like_edited(client):
    channel = page_channel()
    deliver(client, "webhook_comment_add.json")
    deliver(client, "webhook_feed_comment_edit.json")
    comment = Message.objects.get(channel=channel, external_id="900000000000001_1110000000000005")
    assert comment.text == "Do you ship to Belgium and the Netherlands?"
    assert comment.edited_at is not None
    assert messages(channel).count() == 1


def test_a_comment_in_the_older_sender_shape_keeps_its_authors_name(client):
    channel = page_channel()
    deliver(client, "webhook_feed_sender_shape.json")
    comment = Message.objects.get(channel=channel, external_id="900000000000001_1110000000000031")
    assert comment.direction == Direction.INBOUND
    assert comment.author_identity.display_name == "Gert Visser"
    assert comment.author_identity.platform_user_id == "7001000000000014"


def test_the_pages_own_comment_in_the_sender_shape_is_ours_not_a_customers(client):
    channel = page_channel()
    deliver(client, "webhook_feed_sender_shape.json")
    answer = Message.objects.get(channel=channel, external_id="900000000000001_1110000000000032")
    assert answer.direction == Direction.OUTBOUND
    assert answer.author_identity is None
    ticket = answer.ticket
    assert ticket.thread_key == "comment:900000000000001_1110000000000031"
    assert ticket.waiting_since is None  # our answer ends the customer's wait


def test_a_shared_posts_open_on_platform_link_opens_the_post_not_the_shared_link(client):
    channel = page_channel()
    deliver(client, "webhook_feed_share.json")
    share = Message.objects.get(channel=channel, external_id=f"{PAGE_ID}_900000000000024")
    assert share.url == f"https://www.facebook.com/{PAGE_ID}_900000000000024"
    assert "example.org" not in share.url
    assert share.raw["webhook"]["link"] == "https://www.example.org/review-of-the-blue-coat"


# --- mention and ratings --------------------------------------------------------------------
def test_a_mention_in_a_comment_is_the_same_item_the_comment_poll_makes(client):
    value = change_value("webhook_mention.json")
    by_webhook = normalize.mention_change(value, page_id=PAGE_ID)
    polled = {
        "id": value["comment_id"],
        "from": {"id": value["sender_id"], "name": value["sender_name"]},
        "message": value["message"],
        "created_time": "2026-11-24T13:55:00+0000",
    }
    by_poll = normalize.comment_item(polled, page_id=PAGE_ID, post_id=value["post_id"])
    assert (by_webhook.external_id, by_webhook.thread_key, by_webhook.kind) == (
        by_poll.external_id,
        by_poll.thread_key,
        by_poll.kind,
    )
    assert by_webhook.sent_at == by_poll.sent_at


def test_mentions_of_the_page_become_tickets_once_however_often_they_arrive(client):
    channel = page_channel()
    deliver(client, "webhook_mention.json")
    deliver(client, load("webhook_mention.json"))  # a redelivery, re-serialised
    comment = Message.objects.get(channel=channel, external_id="930000000000001_1130000000000001")
    post = Message.objects.get(channel=channel, external_id="7001000000000018_930000000000002")
    assert comment.ticket.kind == "comment"
    assert comment.author_identity.display_name == "Iris Mulder"
    assert post.ticket.thread_key == "post:7001000000000018_930000000000002"
    assert post.text == "Great service from Webcare Demo Shop today!"
    assert messages(channel).count() == 2


def test_a_ratings_change_is_the_review_ticket_the_ratings_poll_makes(client):
    channel = page_channel()
    value = change_value("webhook_ratings.json")
    polled = {
        "created_time": "2026-11-24T14:58:00+0000",
        "recommendation_type": "positive",
        "review_text": value["review_text"],
        "reviewer": {"id": value["reviewer_id"], "name": value["reviewer_name"]},
        "open_graph_story": {"id": value["open_graph_story_id"]},
    }
    by_poll = normalize.rating_item(polled, page_id=PAGE_ID)
    deliver(client, "webhook_ratings.json")
    ingest_batch(channel_id=channel.pk, items=[by_poll])
    review = Message.objects.get(channel=channel)
    assert review.external_id == by_poll.external_id == "rating:940000000000001"
    assert review.ticket.kind == "review"
    assert review.ticket.thread_key == "rating:940000000000001"
    assert review.text == "Friendly staff, quick delivery."
    assert review.author_identity.display_name == "Karin Smits"


# --- Messenger ------------------------------------------------------------------------------
def test_an_unsent_message_is_kept_and_shown_as_removed_by_the_customer(client):
    channel = messenger_channel()
    deliver(client, "webhook_messaging_message.json", url="/webhooks/messenger/")
    deliver(client, "webhook_messaging_unsent.json", url="/webhooks/messenger/")
    deliver(client, load("webhook_messaging_unsent.json"), url="/webhooks/messenger/")
    message = Message.objects.get(channel=channel)
    assert message.text == "Hi, where is my order 48213?"
    assert message.removed_by_author_at is not None
    assert Activity.objects.filter(verb="message_removed_by_author").count() == 1

    team = Team.objects.create(name="Care")
    Ticket.objects.filter(pk=message.ticket_id).update(team=team)
    client.force_login(person("anna", team=team))
    page = client.get(reverse("inbox:thread", args=[message.ticket_id])).content.decode()
    assert "Removed by the customer" in page
    assert "Hi, where is my order 48213?" in page


def test_an_unsent_message_never_seen_creates_no_empty_message(client):
    channel = messenger_channel()
    deliver(client, "webhook_messaging_unsent.json", url="/webhooks/messenger/")
    assert not Message.objects.filter(channel=channel).exists()
    assert not Ticket.objects.filter(channel=channel).exists()


def test_an_unsupported_message_says_meta_does_not_pass_it_on(client):
    channel = messenger_channel()
    deliver(client, "webhook_messaging_unsupported.json", url="/webhooks/messenger/")
    message = Message.objects.get(channel=channel)
    assert message.text == "[The customer sent something Meta does not pass on]"
    assert message.ticket.thread_key == f"dm:{PSID}"


def test_a_postback_without_mid_is_stored_once_with_a_stable_id(client):
    channel = messenger_channel()
    deliver(client, "webhook_messaging_postback_without_mid.json", url="/webhooks/messenger/")
    deliver(client, load("webhook_messaging_postback_without_mid.json"), url="/webhooks/messenger/")
    message = Message.objects.get(channel=channel)
    assert message.text == "Track my order"
    assert message.external_id.startswith("postback:")
    again = normalize.messaging_event(
        entry_of("webhook_messaging_postback_without_mid.json")["messaging"][0], page_id=PAGE_ID
    )
    assert again.external_id == message.external_id


def test_a_shared_product_shows_its_title_and_subtitle(client):
    channel = messenger_channel()
    deliver(client, "webhook_messaging_product_template.json", url="/webhooks/messenger/")
    assert Message.objects.get(channel=channel).text == "Blue wool coat\n€ 149,00"


def test_a_template_shows_its_title_subtitle_and_buttons_as_text():
    event = entry_of("webhook_messaging_generic_template_echo.json")["messaging"][0]
    found = normalize.messaging_event(event, page_id=PAGE_ID)
    assert found.is_ours
    assert found.text == (
        "Your order 48213\nShipped today, arrives Thursday\n[Track parcel]\n[Talk to a person]"
    )


@responses.activate
def test_a_policy_block_shows_on_the_messenger_channels_health_until_meta_lifts_it(client):
    from channels.tasks import poll_channel

    channel = messenger_channel()
    comments = page_channel()
    deliver(client, "webhook_messaging_policy_enforcement.json", url="/webhooks/messenger/")
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert channel.last_error.startswith("Blocked by Meta: The bot violated our Platform Policies")

    responses.get(graph(f"{PAGE_ID}/conversations"), json={"data": []})
    poll_channel(channel.pk)  # a poll that works does not hide the block
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert channel.last_error.startswith("Blocked by Meta: ")

    admin = person("ada", "admin")
    client.force_login(admin)
    page = client.get(reverse("channels:list")).content.decode()
    assert "Blocked by Meta: The bot violated our Platform Policies" in page

    deliver(client, "webhook_messaging_policy_unblock.json", url="/webhooks/messenger/")
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK and channel.last_error == ""
    comments.refresh_from_db()
    assert comments.health_state == HealthState.OK  # the feed channel was never blocked


def test_a_policy_change_delivered_as_a_changes_field_is_a_notice_too():
    entry = {
        "id": PAGE_ID,
        "time": 1795176000,
        "changes": [
            {
                "field": "messaging_policy_enforcement",
                "value": entry_of("webhook_messaging_policy_enforcement.json")["messaging"][0],
            }
        ],
    }
    found = normalize.entry_results(entry, page_id=PAGE_ID)
    assert [n.action for n in found.policy] == ["block"]
    assert found.feed == [] and found.messaging == []
