"""Polling a Page: comment threads, visitor posts, Messenger, ratings and every failure mode."""

import pytest
import responses
from django.utils import timezone

from channels.facebook.connector import FacebookPageConnector
from channels.models import HealthState
from channels.tasks import poll_channel
from inbox.models import Direction, Ticket
from tests.channels.facebook.support import (
    C1,
    C2,
    PAGE_ID,
    POST_ID,
    PSID,
    R1,
    R2,
    SINCE,
    VISITOR_POST_ID,
    graph,
    load,
    messenger_channel,
    page_channel,
    raw,
)

pytestmark = pytest.mark.django_db


def mock_feed(mock):
    mock.get(graph(f"{PAGE_ID}/feed"), json=load("feed.json"))
    mock.get(graph(f"{POST_ID}/comments"), json=load("comments_page_post.json"))
    mock.get(graph(f"{VISITOR_POST_ID}/comments"), json=load("comments_visitor_post.json"))


def poll(channel):
    channel.cursor = SINCE
    channel.save(update_fields=["cursor"])
    return poll_channel(channel.pk)


@responses.activate
def test_replies_thread_into_their_top_level_comments_ticket():
    channel = page_channel()
    mock_feed(responses)
    assert poll(channel).startswith("stored")
    thread = Ticket.objects.get(thread_key=f"comment:{C1}")
    assert thread.kind == "comment"
    assert list(thread.messages.order_by("sent_at").values_list("external_id", flat=True)) == [
        C1,
        R1,
        R2,
    ]
    assert thread.identity.display_name == "Anna de Vries"


@responses.activate
def test_the_pages_own_reply_is_stored_as_ours():
    channel = page_channel()
    mock_feed(responses)
    poll(channel)
    ours = Ticket.objects.get(thread_key=f"comment:{C1}").messages.get(external_id=R1)
    assert ours.direction == Direction.OUTBOUND
    assert ours.author_identity is None


@responses.activate
def test_each_top_level_comment_is_its_own_ticket():
    channel = page_channel()
    mock_feed(responses)
    poll(channel)
    assert Ticket.objects.filter(channel=channel, kind="comment").count() == 2
    assert Ticket.objects.get(thread_key=f"comment:{C2}").identity.display_name == "Bram Jansen"


@responses.activate
def test_a_visitor_post_opens_a_post_ticket_and_the_pages_own_posts_do_not():
    channel = page_channel()
    mock_feed(responses)
    poll(channel)
    post = Ticket.objects.get(kind="post")
    assert post.thread_key == f"post:{VISITOR_POST_ID}"
    assert post.subject == "My order 48213 never arrived. Anyone there?"
    assert not Ticket.objects.filter(thread_key=f"post:{POST_ID}").exists()


@responses.activate
def test_posts_without_activity_since_the_last_poll_are_not_read():
    channel = page_channel()
    mock_feed(responses)
    poll(channel)
    old_post = f"{PAGE_ID}_900000000000000/comments"
    assert not any(old_post in call.request.url for call in responses.calls)


@responses.activate
def test_the_cursor_moves_to_the_newest_item_and_a_second_poll_stores_nothing_new():
    channel = page_channel()
    mock_feed(responses)
    poll(channel)
    channel.refresh_from_db()
    assert channel.cursor["since"].startswith("2026-11-20T10:40")
    assert poll_channel(channel.pk) == "stored 0"


@responses.activate
def test_requests_go_to_the_configured_graph_version_with_the_page_token(settings):
    settings.GRAPH_API_VERSION = "v21.0"
    channel = page_channel()
    mock_feed(responses)
    poll(channel)
    first = responses.calls[0].request
    assert first.url.startswith("https://graph.facebook.com/v21.0/104857600123456/feed?")
    assert "access_token=EAAG-page-token" in first.url
    comments = [c.request.url for c in responses.calls if f"{POST_ID}/comments" in c.request.url]
    assert "filter=stream" in comments[0]
    assert "parent%7Bid%7D" in comments[0] or "parent{id}" in comments[0]


# --- Messenger ------------------------------------------------------------------------------
@responses.activate
def test_a_messenger_conversation_becomes_a_dm_ticket_keyed_by_the_customer():
    channel = messenger_channel()
    responses.get(graph(f"{PAGE_ID}/conversations"), json=load("conversations.json"))
    poll(channel)
    ticket = Ticket.objects.get(channel=channel)
    assert ticket.thread_key == f"dm:{PSID}" and ticket.kind == "dm"
    assert ticket.identity.display_name == "Dirk Bakker"
    texts = list(ticket.messages.order_by("sent_at").values_list("direction", "text"))
    assert texts == [
        ("in", "Hi, where is my order 48213?"),
        ("out", "Let me check that for you."),
    ]
    assert "platform=messenger" in responses.calls[0].request.url


# --- failures -------------------------------------------------------------------------------
@responses.activate
def test_an_expired_token_marks_only_that_channel_needs_reconnect():
    broken = page_channel()
    healthy = page_channel(
        own_account_id="555000111",
        settings={"page_id": "555000111", "feed_depth": 1},
        credentials={"page_access_token": "EAAG-other"},
    )
    responses.get(graph(f"{PAGE_ID}/feed"), json=load("error_190.json"), status=400)
    responses.get(graph("555000111/feed"), json={"data": []})
    poll(broken)
    poll(healthy)
    broken.refresh_from_db()
    healthy.refresh_from_db()
    assert broken.health_state == HealthState.NEEDS_RECONNECT
    assert "password" in broken.last_error and "Reconnect the Page" in broken.last_error
    assert healthy.health_state == HealthState.OK and healthy.last_error == ""


@responses.activate
def test_a_rate_limit_backs_the_channel_off():
    channel = page_channel()
    responses.get(graph(f"{PAGE_ID}/feed"), json=load("error_613.json"), status=400)
    poll(channel)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.RATE_LIMITED
    assert channel.rate_limited_until > timezone.now()
    assert poll_channel(channel.pk) == "skipped: backing off"


@responses.activate
def test_an_html_error_page_is_a_temporary_failure():
    channel = page_channel()
    responses.get(
        graph(f"{PAGE_ID}/feed"),
        body=raw("error_502.html"),
        status=502,
        content_type="text/html; charset=utf-8",
    )
    poll(channel)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert "non-JSON" in channel.last_error
    assert channel.next_poll_at > timezone.now()


@responses.activate
def test_a_transient_graph_error_is_temporary():
    channel = page_channel()
    responses.get(graph(f"{PAGE_ID}/feed"), json=load("error_2_transient.json"), status=500)
    poll(channel)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED


def test_a_channel_without_a_token_needs_reconnect():
    channel = page_channel(credentials={})
    poll(channel)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT


# --- ratings --------------------------------------------------------------------------------
@responses.activate
def test_ratings_are_fetched_where_the_graph_version_still_serves_them(settings):
    settings.GRAPH_API_VERSION = "v21.0"
    channel = page_channel(settings={"page_id": PAGE_ID, "feed_depth": 3, "ratings": "on"})
    mock_feed(responses)
    responses.get(graph(f"{PAGE_ID}/ratings"), json=load("ratings.json"))
    poll(channel)
    review = Ticket.objects.get(kind="review")
    assert review.subject == "Delivery took three weeks."
    assert review.identity.display_name == "Eva Visser"


@responses.activate
def test_ratings_are_not_asked_for_from_v22_and_the_channel_says_so(settings):
    settings.GRAPH_API_VERSION = "v22.0"
    channel = page_channel(settings={"page_id": PAGE_ID, "feed_depth": 3, "ratings": "on"})
    mock_feed(responses)
    poll(channel)
    assert not any("/ratings" in c.request.url for c in responses.calls)
    notice = FacebookPageConnector(channel.context()).notice()
    assert "v22.0" in notice and "error 12" in notice


@responses.activate
def test_a_ratings_error_12_does_not_break_the_comment_poll(settings):
    settings.GRAPH_API_VERSION = "v21.0"
    channel = page_channel(settings={"page_id": PAGE_ID, "feed_depth": 3, "ratings": "on"})
    mock_feed(responses)
    responses.get(graph(f"{PAGE_ID}/ratings"), json=load("error_12_ratings.json"), status=400)
    poll(channel)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert Ticket.objects.filter(kind="comment").count() == 2


@responses.activate
def test_a_post_deleted_between_feed_and_comments_does_not_stop_the_poll():
    channel = page_channel()
    responses.get(graph(f"{PAGE_ID}/feed"), json=load("feed.json"))
    responses.get(
        graph(f"{POST_ID}/comments"),
        json={
            "error": {
                "message": "Unsupported get request. Object with ID does not exist",
                "type": "GraphMethodException",
                "code": 100,
                "error_subcode": 33,
                "fbtrace_id": "AxYz",
            }
        },
        status=400,
    )
    responses.get(graph(f"{VISITOR_POST_ID}/comments"), json=load("comments_visitor_post.json"))
    poll(channel)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert Ticket.objects.filter(kind="post").count() == 1
