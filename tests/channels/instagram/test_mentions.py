"""Mentions of the account in someone else's comment or caption are answered publicly.

Instagram API with Instagram Login, "Mentions": ``POST /<IG_ID>/mentions`` on
graph.instagram.com replies "to a comment or media object caption that a Business or Creator
Account has been @mentioned in" (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/mentions/).
Parameters and answer, IG User Mentions reference: ``media_id`` (required), ``comment_id`` (a
comment mention), ``message``; ``{"id": "<new comment id>"}``
(https://developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/ig-user/mentions).
With Instagram Login, Meta includes @mentions in the ``comments`` notifications ("Instagram
webhook fields and permissions", https://developers.facebook.com/documentation/instagram-platform/webhooks/fields;
"Webhook Notification Examples", https://developers.facebook.com/documentation/instagram-platform/webhooks/examples).
The ``mentions`` value below, ``{media_id, comment_id?}``, is that page's (Facebook Login)
shape; should one arrive, a caption is looked for in ``GET /<IG_ID>/tags`` (the Instagram Login
Mentions guide's read; response: the Tags reference's IG Media list,
https://developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/ig-user/tags),
and a comment is stored unread, with the reason: ``mentioned_comment`` is documented for
Facebook Login only.
"""

import datetime as dt

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from inbox.models import DeliveryState, Team, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import composer_state, reply_send
from tests.channels.instagram.support import ACCOUNT_ID, HANDLE, channel, deliver, envelope, graph
from tests.channels.instagram.test_send import form
from tests.personas import person

pytestmark = pytest.mark.django_db

MEDIA = "18000000000000009"
COMMENT = "17999000000000001"
NEW_COMMENT = "17846319838228163"


@pytest.fixture
def agent():
    return person("anna", team=Team.objects.create(name="Social"))


def _stamp() -> str:
    return f"{timezone.now():%Y-%m-%dT%H:%M:%S+0000}"


def _comment_mention(client) -> Ticket:
    ch = channel()
    value = {"comment_id": COMMENT, "media_id": MEDIA}
    deliver(client, envelope(time=1, changes=[{"field": "mentions", "value": value}]))
    return _owned(Ticket.objects.get(channel=ch, thread_key=f"mention:{COMMENT}"))


def _tagged(*media) -> dict:
    """``GET /<IG_ID>/tags``: a page of IG Media (optional fields left out where absent)."""
    return {"data": list(media), "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}}


CAPTIONED = {
    "id": MEDIA,
    "caption": f"New coat from @{HANDLE}!",
    "timestamp": "2026-12-07T10:00:00+0000",
    "username": "piet.jansen",
    "media_type": "IMAGE",
    "permalink": "https://www.instagram.com/p/X/",
}


def _caption_mention(client, tags=None) -> Ticket:
    ch = channel()
    responses.get(graph(f"{ACCOUNT_ID}/tags"), json=tags or _tagged(CAPTIONED))
    value = {"media_id": MEDIA}
    deliver(client, envelope(time=1, changes=[{"field": "mentions", "value": value}]))
    return _owned(Ticket.objects.get(channel=ch, thread_key=f"mention:{MEDIA}"))


def _owned(ticket: Ticket) -> Ticket:
    ticket.team = Team.objects.get(name="Social")
    ticket.save(update_fields=["team"])
    return ticket


@responses.activate
def test_a_public_reply_to_a_comment_mention_goes_to_the_mentions_edge_once(client, agent):
    ticket = _comment_mention(client)
    responses.post(graph(f"{ACCOUNT_ID}/mentions"), json={"id": NEW_COMMENT})
    message = reply_send(ticket_id=ticket.pk, user=agent, text="Very warm, down to -10 °C.")
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk).startswith("nothing to do")
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    sent = form(posts[0])
    assert (sent["media_id"], sent["comment_id"]) == (MEDIA, COMMENT)
    assert sent["message"].startswith("Very warm, down to -10 °C.")
    message.refresh_from_db()
    assert message.external_id == NEW_COMMENT


@responses.activate
def test_a_public_reply_to_a_caption_mention_names_only_the_media(client, agent):
    ticket = _caption_mention(client)
    responses.post(graph(f"{ACCOUNT_ID}/mentions"), json={"id": NEW_COMMENT})
    message = reply_send(ticket_id=ticket.pk, user=agent, text="Thank you for sharing!")
    assert message_deliver(message_id=message.pk) == "sent"
    sent = form([c for c in responses.calls if c.request.method == "POST"][0])
    assert sent["media_id"] == MEDIA
    assert "comment_id" not in sent


@responses.activate
def test_the_composer_says_before_typing_where_a_mention_reply_appears(client, agent):
    ticket = _comment_mention(client)
    state = composer_state(ticket)
    assert state.modes == ("public",)
    assert state.allowed
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert 'value="public"' in page
    assert 'value="private"' not in page
    assert "appears as a comment under the comment or post that mentions the account" in page


@responses.activate
def test_a_mention_reply_whose_outcome_is_unknown_is_never_posted_again(client, agent):
    from inbox.models import Message

    ticket = _comment_mention(client)
    message = reply_send(ticket_id=ticket.pk, user=agent, text="Very warm!")
    # An earlier attempt was cut off mid-send: Instagram cannot list our reply to confirm it.
    Message.objects.filter(pk=message.pk).update(
        delivery_state=DeliveryState.SENDING,
        delivery_changed_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert message_deliver(message_id=message.pk) == "failed: outcome unknown"
    assert not [c for c in responses.calls if c.request.method == "POST"]


@responses.activate
def test_a_caption_mention_is_read_from_the_posts_the_account_is_tagged_in(client, agent):
    ticket = _caption_mention(client)
    message = ticket.messages.get()
    assert message.text == f"New coat from @{HANDLE}!"
    assert message.url == "https://www.instagram.com/p/X/"
    assert message.author_identity.handle == "piet.jansen"
    call = responses.calls[0].request
    assert f"/{ACCOUNT_ID}/tags" in call.url


@responses.activate
def test_a_caption_mention_not_among_the_tagged_posts_lands_saying_why(client, agent):
    other = {**CAPTIONED, "id": "18000000000000077"}
    ticket = _caption_mention(client, tags={"data": [other]})
    text = ticket.messages.get().text
    assert "did not list that post" in text


@responses.activate
def test_a_refused_tags_read_lands_the_mention_with_metas_reason_and_keeps_the_channel(
    client, agent
):
    ch = channel()
    responses.get(
        graph(f"{ACCOUNT_ID}/tags"),
        status=400,
        json={
            "error": {
                "message": "(#10) Application does not have permission for this action",
                "type": "OAuthException",
                "code": 10,
                "fbtrace_id": "AbCdEf",
            }
        },
    )
    value = {"media_id": MEDIA}
    deliver(client, envelope(time=1, changes=[{"field": "mentions", "value": value}]))
    ticket = Ticket.objects.get(channel=ch, thread_key=f"mention:{MEDIA}")
    assert "refused to list the posts" in ticket.messages.get().text
    assert "does not have permission" in ticket.messages.get().text
    ch.refresh_from_db()
    assert ch.health_state != "needs_reconnect"


@responses.activate
def test_a_comment_mention_is_stored_unread_without_asking_graph(client, agent):
    ticket = _comment_mention(client)
    assert not responses.calls
    assert "offers no way to read that comment" in ticket.messages.get().text
