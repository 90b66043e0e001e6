"""The reconciliation poll: media → comments, conversations → messages, same ids as webhooks."""

import datetime as dt

import pytest
import responses
from django.utils import timezone

from channels.models import Channel, HealthState
from channels.tasks import poll_channel
from inbox.models import Message, Ticket
from tests.channels.instagram.support import (
    ACCOUNT_ID,
    C1,
    IGSID,
    MEDIA_ID,
    MID,
    R1,
    channel,
    comment_change,
    deliver,
    dm_event,
    envelope,
    graph,
    graph_error,
)

pytestmark = pytest.mark.django_db


def stamp(minutes_ago: int) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def mock_account(*, with_reply=True):
    # GET /{ig-user-id}/media and /{ig-media-id}/comments (Instagram comment moderation guide:
    # "timestamp", "text", "id"; from/username/parent_id per the oct-20-2021 changelog).
    responses.get(
        graph(f"{ACCOUNT_ID}/media"),
        json={
            "data": [
                {
                    "id": MEDIA_ID,
                    "caption": "Autumn coats",
                    "timestamp": stamp(600),
                    "permalink": "https://www.instagram.com/p/DEMO/",
                    "comments_count": 2,
                    "media_type": "IMAGE",
                }
            ]
        },
    )
    replies = [
        {
            "id": R1,
            "text": "Me too!",
            "timestamp": stamp(20),
            "from": {"id": "555", "username": "piet"},
            "username": "piet",
        }
    ]
    responses.get(
        graph(f"{MEDIA_ID}/comments"),
        json={
            "data": [
                {
                    "id": C1,
                    "text": "Is this in size M?",
                    "timestamp": stamp(30),
                    "from": {"id": IGSID, "username": "anna.de.vries"},
                    "username": "anna.de.vries",
                    **({"replies": {"data": replies}} if with_reply else {}),
                }
            ]
        },
    )
    responses.get(
        graph(f"{ACCOUNT_ID}/conversations"),
        json={
            "data": [
                {
                    "id": "aWdfZAG06MTpJR01lc3NhZA",
                    "updated_time": stamp(5),
                    "participants": {
                        "data": [
                            {"username": "webcare.demo.shop", "id": ACCOUNT_ID},
                            {"username": "anna.de.vries", "id": IGSID},
                        ]
                    },
                    "messages": {
                        "data": [
                            {
                                "id": MID,
                                "created_time": stamp(6),
                                "from": {"username": "anna.de.vries", "id": IGSID},
                                "to": {
                                    "data": [{"username": "webcare.demo.shop", "id": ACCOUNT_ID}]
                                },
                                "message": "Hoi! Do you ship to Belgium?",
                            }
                        ]
                    },
                }
            ]
        },
    )


@responses.activate
def test_the_poll_threads_comments_and_replies_and_finds_dms():
    ch = channel()
    mock_account()
    poll_channel(ch.pk)
    assert Channel.objects.get(pk=ch.pk).health_state == HealthState.OK
    comment = Ticket.objects.get(channel=ch, thread_key=f"comment:{C1}")
    assert comment.messages.count() == 2
    dm = Ticket.objects.get(channel=ch, thread_key=f"dm:{IGSID}")
    assert dm.messages.get().text == "Hoi! Do you ship to Belgium?"
    # One customer across their comment and their DM.
    assert comment.identity_id == dm.identity_id


@responses.activate
def test_what_a_webhook_delivered_is_not_stored_again_by_the_poll(client):
    ch = channel()
    deliver(
        client,
        envelope(
            time=int(timezone.now().timestamp()),
            changes=[comment_change()],
            messaging=[dm_event(ts=int(timezone.now().timestamp() * 1000))],
        ),
    )
    mock_account(with_reply=False)
    poll_channel(ch.pk)
    assert Message.objects.filter(channel=ch, external_id=C1).count() == 1
    assert Message.objects.filter(channel=ch, external_id=MID).count() == 1


@responses.activate
def test_a_rate_limited_poll_shows_in_health_and_waits():
    ch = channel()
    responses.get(
        graph(f"{ACCOUNT_ID}/media"),
        json=graph_error(4, "Application request limit reached"),
        status=400,
    )
    poll_channel(ch.pk)
    ch.refresh_from_db()
    assert ch.health_state == HealthState.RATE_LIMITED
    assert ch.rate_limited_until is not None


@responses.activate
def test_a_lost_permission_on_reading_needs_an_admin():
    ch = channel()
    responses.get(
        graph(f"{ACCOUNT_ID}/media"),
        json=graph_error(10, "Application does not have permission for this action"),
        status=400,
    )
    poll_channel(ch.pk)
    ch.refresh_from_db()
    assert ch.health_state == HealthState.NEEDS_RECONNECT
    assert "Permission missing" in ch.last_error
    assert Channel.objects.filter(health_state=HealthState.NEEDS_RECONNECT).count() == 1
