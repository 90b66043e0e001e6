"""Instagram webhooks: signature, comments, mentions and DMs land as threaded tickets."""

import pytest
import responses

from channels.instagram import normalize
from channels.models import WebhookDelivery
from inbox.models import Direction, Identity, Message, Ticket
from tests.channels.instagram.support import (
    ACCOUNT_ID,
    C1,
    HANDLE,
    IGSID,
    MID,
    R1,
    channel,
    comment_change,
    deliver,
    dm_event,
    envelope,
    signed,
)

pytestmark = pytest.mark.django_db
T = 1765100000


def test_a_body_signed_with_the_facebook_secret_is_refused(client):
    channel()
    payload = envelope(time=T, changes=[comment_change()])
    from tests.channels.instagram.support import body

    raw = body(payload)
    response = client.post(
        "/webhooks/instagram/",
        data=raw,
        content_type="application/json",
        **signed(raw, "the-facebook-app-secret"),
    )
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists()
    assert not Message.objects.exists()


def test_the_handshake_echoes_the_challenge(client):
    response = client.get(
        "/webhooks/instagram/",
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me-123", "hub.challenge": "42"},
    )
    assert response.content == b"42"


def test_a_malformed_signed_body_is_a_400_and_stores_nothing(client):
    raw = b'{"object": "instagram", "entry": ['
    response = client.post(
        "/webhooks/instagram/", data=raw, content_type="application/json", **signed(raw)
    )
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_a_comment_and_its_reply_share_one_ticket(client):
    ch = channel()
    deliver(client, envelope(time=T, changes=[comment_change()]))
    deliver(
        client,
        envelope(time=T + 60, changes=[comment_change(R1, text="Me too!", parent_id=C1)]),
    )
    ticket = Ticket.objects.get(channel=ch)
    assert ticket.thread_key == f"comment:{C1}"
    assert ticket.kind == "comment"
    assert list(ticket.messages.order_by("sent_at").values_list("text", flat=True)) == [
        "Is this in size M?",
        "Me too!",
    ]
    assert ticket.identity.handle == "anna.de.vries"


def test_a_redelivered_comment_is_stored_once(client):
    ch = channel()
    payload = envelope(time=T, changes=[comment_change()])
    deliver(client, payload)
    deliver(client, payload)
    assert Message.objects.filter(channel=ch).count() == 1


def test_our_own_comment_from_the_instagram_app_is_stored_as_ours(client):
    ch = channel()
    deliver(client, envelope(time=T, changes=[comment_change()]))
    deliver(
        client,
        envelope(
            time=T + 30,
            changes=[
                comment_change(R1, text="Yes!", parent_id=C1, who=ACCOUNT_ID, username=HANDLE)
            ],
        ),
    )
    ours = Message.objects.get(channel=ch, external_id=R1)
    assert ours.direction == Direction.OUTBOUND


def test_a_dm_with_a_photo_lands_with_its_attachment(client):
    ch = channel()
    event = dm_event(
        text=None,
        attachments=[
            {
                "type": "image",
                "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"},
            }
        ],
    )
    deliver(client, envelope(time=T, messaging=[event]))
    message = Message.objects.get(channel=ch, external_id=MID)
    assert message.ticket.thread_key == f"dm:{IGSID}"
    assert message.ticket.kind == "dm"
    assert message.text == "[image]"
    # The photo reaches ingest as an InboundAttachment, to be downloaded by the media path.
    item = normalize.messaging_event(event, account_id=ACCOUNT_ID)
    assert [(a.kind, a.url) for a in item.attachments] == [
        ("image", "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1")
    ]


def test_a_story_reply_a_story_mention_and_a_shared_post_are_readable(client):
    ch = channel()
    events = [
        dm_event(
            mid="m_story_reply",
            text="Love this dress",
            reply_to={"story": {"url": "https://lookaside.fbsbx.com/story/1", "id": "1799"}},
        ),
        dm_event(
            mid="m_story_mention",
            text=None,
            attachments=[
                {"type": "story_mention", "payload": {"url": "https://lookaside.fbsbx.com/s/2"}}
            ],
        ),
        dm_event(
            mid="m_share",
            text=None,
            attachments=[
                {
                    "type": "share",
                    "payload": {
                        "ig_post_media_id": "18139494541428835",
                        "title": "Autumn coats are in",
                        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18139494541428835",
                    },
                }
            ],
        ),
    ]
    deliver(client, envelope(time=T, messaging=events))
    texts = dict(Message.objects.filter(channel=ch).values_list("external_id", "text"))
    assert texts["m_story_reply"] == "Love this dress"
    assert texts["m_story_mention"] == "[Story mention]"
    assert texts["m_share"] == "[Autumn coats are in]"
    assert Ticket.objects.filter(channel=ch).count() == 1


def test_a_reaction_an_edit_and_an_unsend_change_the_conversation(client):
    ch = channel()
    deliver(client, envelope(time=T, messaging=[dm_event()]))
    reaction = {
        "sender": {"id": IGSID},
        "recipient": {"id": ACCOUNT_ID},
        "timestamp": 1765100060000,
        "reaction": {"mid": MID, "action": "react", "reaction": "love", "emoji": "❤️"},
    }
    edit = {
        "sender": {"id": IGSID},
        "recipient": {"id": ACCOUNT_ID},
        "timestamp": 1765100120000,
        "message_edit": {"mid": MID, "text": "Do you ship to Belgium and Germany?", "num_edit": 1},
    }
    deliver(client, envelope(time=T + 60, messaging=[reaction]))
    deliver(client, envelope(time=T + 120, messaging=[edit]))
    message = Message.objects.get(channel=ch, external_id=MID)
    assert message.text == "Do you ship to Belgium and Germany?"
    assert Message.objects.filter(channel=ch, text="Reacted ❤️ to a message").exists()
    deliver(
        client,
        envelope(time=T + 180, messaging=[dm_event(text=None, is_deleted=True)]),
    )
    message.refresh_from_db()
    assert message.removed_by_author_at is not None


def test_an_echo_of_our_dm_is_stored_as_ours(client):
    ch = channel()
    deliver(client, envelope(time=T - 60, messaging=[dm_event(ts=1765099940000)]))
    echo = {
        "sender": {"id": ACCOUNT_ID},
        "recipient": {"id": IGSID},
        "timestamp": 1765100000000,
        "message": {"mid": "m_echo", "text": "We do!", "is_echo": True},
    }
    deliver(client, envelope(time=T, messaging=[echo]))
    message = Message.objects.get(channel=ch, external_id="m_echo")
    assert message.direction == Direction.OUTBOUND
    assert message.ticket.thread_key == f"dm:{IGSID}"


def test_comments_and_dms_of_one_person_share_one_identity(client):
    ch = channel()
    deliver(client, envelope(time=T, changes=[comment_change()], messaging=[dm_event()]))
    assert Identity.objects.filter(platform="instagram", platform_user_id=IGSID).count() == 1
    assert Ticket.objects.filter(channel=ch).count() == 2


@responses.activate
def test_a_mention_in_a_comment_lands_as_a_mention_ticket_saying_why_it_cannot_be_read(client):
    # The ``mentions`` value of Meta's examples page ({comment_id, media_id}); Instagram Login
    # documents no read of the comment, so nothing is asked of Graph.
    ch = channel()
    change = {
        "field": "mentions",
        "value": {"comment_id": "17999000000000001", "media_id": "18000000000000009"},
    }
    deliver(client, envelope(time=T, changes=[change]))
    ticket = Ticket.objects.get(channel=ch)
    assert ticket.kind == "mention"
    assert ticket.thread_key == "mention:17999000000000001"
    message = ticket.messages.get()
    assert "offers no way to read that comment" in message.text
    assert message.parent_external_id == "18000000000000009"
    assert not responses.calls


def test_a_webhook_for_another_account_touches_no_channel(client):
    ch = channel()
    payload = envelope(time=T, changes=[comment_change()])
    payload["entry"][0]["id"] = "17841499999999999"
    deliver(client, payload)
    assert not Message.objects.filter(channel=ch).exists()


def test_a_signed_body_of_odd_shapes_stores_nothing_and_fails_nothing(client):
    ch = channel()
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": ACCOUNT_ID,
                "time": T,
                "changes": [None, {"field": "comments", "value": []}],
                "messaging": [
                    "x",
                    {"message": {"text": "no mid"}},
                    {"reaction": {"action": "react"}},
                ],
            },
            "not an entry",
        ],
    }
    response = deliver(client, payload)
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().state == "processed"
    assert not Message.objects.filter(channel=ch).exists()
