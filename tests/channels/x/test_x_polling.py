"""Polling X: mentions, DMs and keyword searches land in the inbox, threaded, once."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.utils import timezone
from responses import matchers

from channels.models import Channel, HealthState
from channels.tasks import poll_channel
from inbox.models import Direction, Identity, Message, Ticket

from .conftest import DM_EVENTS, MENTIONS, OWN_ID, SEARCH, load, make_x_channel

pytestmark = pytest.mark.django_db

DM_CONVERSATION = f"2244994945-{OWN_ID}"


def _single_page(name: str) -> dict:
    page = load(name)
    page["meta"].pop("next_token", None)
    return page


def test_all_pages_of_mentions_are_stored_and_the_next_poll_asks_only_for_newer(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=load("mentions_page1.json"))
    api.get(
        MENTIONS,
        json=load("mentions_page2.json"),
        match=[
            matchers.query_param_matcher(
                {"pagination_token": "7140dibdnow9c7btw481s8m561gat797rboud5r80xvzm"},
                strict_match=False,
            )
        ],
    )

    assert poll_channel(channel.pk) == "stored 3"

    assert Message.objects.filter(channel=channel).count() == 3
    channel.refresh_from_db()
    assert channel.cursor["mentions"] == {"since_id": "1860000000000000010"}
    assert channel.usage["reads"] == 2  # X bills per call: both pages count

    api.reset()
    newer = api.get(
        MENTIONS,
        json=load("empty_page.json"),
        match=[
            matchers.query_param_matcher(
                {"since_id": "1860000000000000010", "max_results": "100"}, strict_match=False
            )
        ],
    )
    assert poll_channel(channel.pk) == "stored 0"
    assert newer.call_count == 1
    assert "pagination_token" not in api.calls[0].request.url
    assert Message.objects.filter(channel=channel).count() == 3


def test_a_poll_stopped_between_pages_resumes_without_moving_since_id(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=load("mentions_page1.json"))
    api.get(MENTIONS, body=requests.ConnectionError("connection reset by peer"))

    assert poll_channel(channel.pk).startswith("failed")

    channel.refresh_from_db()
    # The first page is stored with its cursor; since_id waits for the last page.
    assert Message.objects.filter(channel=channel).count() == 2
    assert channel.cursor["mentions"]["next_token"].startswith("7140")
    assert "since_id" not in channel.cursor["mentions"]


def test_a_mention_by_a_deleted_author_is_kept_under_their_id(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=_single_page("mentions_page1.json"))

    poll_channel(channel.pk)

    message = Message.objects.get(external_id="1860000000000000009")
    assert message.author_identity.platform_user_id == "1700000000000000404"
    assert message.author_identity.handle == ""
    jan = Identity.objects.get(platform_user_id="2244994945")
    assert (jan.handle, jan.display_name, jan.followers) == ("jan_de_vries", "Jan de Vries", 311)
    assert Message.objects.get(external_id="1860000000000000010").text == (
        "@acme_care where is my parcel? Order 4471 & still nothing"
    )


def test_partial_errors_on_a_good_page_are_recorded_and_the_page_is_stored(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=load("mentions_page2.json"))

    assert poll_channel(channel.pk) == "stored 1"

    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert channel.cursor["partial_errors"][0]["resource_id"] == "1859000000000000001"


def test_a_reply_to_our_reply_lands_in_the_ticket_of_the_first_mention(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=_single_page("mentions_page1.json"))
    poll_channel(channel.pk)
    api.reset()
    api.get(MENTIONS, json=load("mentions_thread_reply.json"))

    poll_channel(channel.pk)

    ticket = Ticket.objects.get(thread_key="conv:1860000000000000010")
    assert list(ticket.messages.values_list("external_id", flat=True).order_by("sent_at")) == [
        "1860000000000000010",
        "1860000000000000030",
    ]
    assert ticket.kind == "mention"
    assert Message.objects.get(external_id="1860000000000000030").parent_external_id == (
        "1860000000000000020"
    )


def test_retweets_are_not_ingested(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=load("mentions_thread_reply.json"))

    poll_channel(channel.pk)

    assert not Message.objects.filter(external_id="1860000000000000031").exists()
    assert not Ticket.objects.filter(thread_key="conv:1860000000000000031").exists()


def test_direct_messages_thread_by_conversation_and_our_own_are_ours(api):
    channel = make_x_channel(settings={})
    api.get(MENTIONS, json=load("empty_page.json"))
    dms = api.get(DM_EVENTS, json=load("dm_events.json"))

    assert poll_channel(channel.pk) == "stored 3"

    ticket = Ticket.objects.get(channel=channel)
    assert ticket.thread_key == f"dm:{DM_CONVERSATION}" and ticket.kind == "dm"
    ours = Message.objects.get(external_id="1860000000000000101")
    assert ours.direction == Direction.OUTBOUND and ours.author_identity is None
    inbound = ticket.messages.filter(direction=Direction.INBOUND)
    assert inbound.count() == 2
    assert {m.author_identity.handle for m in inbound} == {"jan_de_vries"}
    assert "dm_event.fields=created_at" in dms.calls[0].request.url.replace("%2C", ",")
    channel.refresh_from_db()
    # The first run reads one page (no 30-day backfill) and remembers where it stopped.
    assert channel.cursor["dms"] == {"newest_id": "1860000000000000102"}


def test_a_second_dm_poll_stops_at_what_it_already_has(api):
    channel = make_x_channel(settings={})
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(DM_EVENTS, json=load("dm_events.json"))
    poll_channel(channel.pk)

    assert poll_channel(channel.pk) == "stored 0"
    channel.refresh_from_db()
    assert "next_token" not in channel.cursor["dms"]
    assert Message.objects.filter(channel=channel).count() == 3


def test_keyword_hits_not_addressed_to_us_become_listening_tickets(api):
    channel = make_x_channel(settings={"fetch_dms": False, "keywords": "acme parcel\n"})
    api.get(MENTIONS, json=load("empty_page.json"))
    search = api.get(
        SEARCH,
        json=load("search_recent.json"),
        match=[matchers.query_param_matcher({"query": "acme parcel"}, strict_match=False)],
    )

    poll_channel(channel.pk)

    assert search.call_count == 1
    ticket = Ticket.objects.get(channel=channel)
    assert ticket.kind == "listening"
    assert ticket.thread_key == "conv:1860000000000000201"
    # Our own tweet matched the keywords too: it is ours, not a customer's listening hit, and
    # the retweet is not a conversation.
    assert not Message.objects.filter(external_id="1860000000000000200").exists()
    assert not Identity.objects.filter(platform_user_id=OWN_ID).exists()
    channel.refresh_from_db()
    assert channel.cursor["search"] == {"acme parcel": {"since_id": "1860000000000000202"}}


def test_a_429_with_a_reset_time_rate_limits_the_channel_until_then(api):
    channel = make_x_channel()
    reset = int((timezone.now() + dt.timedelta(minutes=9)).timestamp())
    api.get(
        MENTIONS,
        status=429,
        json=load("error_429.json"),
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )

    poll_channel(channel.pk)

    channel.refresh_from_db()
    until = dt.datetime.fromtimestamp(reset, tz=dt.UTC)
    assert channel.health_state == HealthState.RATE_LIMITED
    assert channel.rate_limited_until == until
    assert channel.next_poll_at == until
    assert f"rate limited until {timezone.localtime(until):%H:%M}" in channel.last_error
    # Until the reset, polls do not call X at all.
    assert poll_channel(channel.pk) == "skipped: backing off"
    assert len(api.calls) == 1


def test_a_429_without_a_reset_header_waits_a_window_and_is_not_retried_at_once(api):
    channel = make_x_channel()
    limited = api.get(MENTIONS, status=429, json=load("error_429.json"))
    before = timezone.now()

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert limited.call_count == 1  # tweepy's wait_on_rate_limit would have looped here
    assert channel.health_state == HealthState.RATE_LIMITED
    wait = channel.rate_limited_until - before
    assert dt.timedelta(minutes=14) < wait <= dt.timedelta(minutes=15, seconds=5)


def test_a_401_asks_for_a_reconnect_with_xs_message_and_other_channels_go_on(api):
    broken = make_x_channel()
    other_id = "1600000000000000002"
    healthy = make_x_channel(
        own_account_id=other_id,
        credentials={
            "consumer_key": "ck2",
            "consumer_secret": "cs2",
            "access_token": f"{other_id}-at2",
            "access_token_secret": "ats2",
        },
    )
    api.get(MENTIONS, status=401, json=load("error_401.json"))
    page = _single_page("mentions_page1.json")
    api.get(f"https://api.twitter.com/2/users/{other_id}/mentions", json=page)

    poll_channel(broken.pk)
    poll_channel(healthy.pk)

    broken.refresh_from_db()
    healthy.refresh_from_db()
    assert broken.health_state == HealthState.NEEDS_RECONNECT
    assert broken.last_error == "X API 401: Unauthorized"
    assert healthy.health_state == HealthState.OK
    assert Message.objects.filter(channel=healthy).count() == 2


def test_a_503_degrades_the_channel_and_backs_off(api):
    channel = make_x_channel(poll_interval=60)
    api.get(MENTIONS, status=503, json=load("error_503.json"))
    before = timezone.now()

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert channel.last_error == "X API 503: Service Unavailable"
    assert channel.consecutive_failures == 1
    assert channel.next_poll_at - before >= dt.timedelta(seconds=119)


def test_a_timeout_degrades_the_channel(api):
    channel = make_x_channel()
    api.get(MENTIONS, body=requests.ReadTimeout("read timed out"))

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert "did not answer in time" in channel.last_error


def test_a_spent_read_budget_slows_polling_and_says_why(api):
    channel = make_x_channel(settings={"fetch_dms": False, "monthly_read_budget": 2})
    api.get(MENTIONS, json=load("mentions_page1.json"))
    api.get(MENTIONS, json=load("mentions_page2.json"))
    before = timezone.now()

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert Message.objects.filter(channel=channel).count() == 3  # nothing received is lost
    assert channel.health_state == HealthState.DEGRADED
    assert channel.last_error == "monthly read budget spent: 2/2"
    assert channel.next_poll_at - before >= dt.timedelta(minutes=59)
    assert poll_channel(channel.pk) == "skipped: backing off"


def test_a_new_month_restores_the_read_budget(api):
    channel = make_x_channel(settings={"fetch_dms": False, "monthly_read_budget": 2})
    Channel.objects.filter(pk=channel.pk).update(usage={"month": "2020-01", "reads": 9})
    api.get(MENTIONS, json=load("empty_page.json"))

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert channel.usage["reads"] == 1


def test_a_listening_query_idle_for_over_a_week_starts_again_instead_of_failing(api):
    channel = make_x_channel(settings={"fetch_dms": False, "keywords": ["acme parcel"]})
    Channel.objects.filter(pk=channel.pk).update(
        cursor={"search": {"acme parcel": {"since_id": "1850000000000000000"}}}
    )
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(SEARCH, status=400, json=load("error_400_since_id.json"))
    api.get(SEARCH, json=load("search_recent.json"))

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert Ticket.objects.filter(channel=channel, kind="listening").count() == 1
    assert channel.cursor["search"]["acme parcel"] == {"since_id": "1860000000000000202"}
    assert "since_id" not in api.calls[2].request.url


def test_without_a_stored_account_id_the_access_token_names_the_account(api):
    channel = make_x_channel(own_account_id="")
    mentions = api.get(MENTIONS, json=load("empty_page.json"))

    assert poll_channel(channel.pk) == "stored 0"
    assert mentions.call_count == 1


def _full_page(size: int = 100) -> dict:
    """A full page of mentions: 60 customers in 34 conversations."""
    sample = load("mentions_page1.json")
    tweet, user = sample["data"][0], sample["includes"]["users"][0]
    first = 1870000000000000000
    tweets = [
        {
            **tweet,
            "id": str(first + n),
            "conversation_id": str(first + n // 3 * 3),
            "author_id": str(9000 + n % 60),
            "text": f"@acme_care parcel {n}",
        }
        for n in reversed(range(size))
    ]
    users = [{**user, "id": str(9000 + u), "username": f"customer{u}"} for u in range(60)]
    meta = {"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"], "result_count": size}
    return {"data": tweets, "includes": {"users": users}, "meta": meta}


def test_a_full_page_is_polled_with_a_constant_number_of_queries(
    api, django_assert_max_num_queries
):
    channel = make_x_channel()
    api.get(MENTIONS, json=_full_page())

    # 24 for the poll itself, plus the team-lead engines' constant 13 per batch (see
    # tests/inbox/ingest/test_ingest.py).
    with django_assert_max_num_queries(24 + 13):
        assert poll_channel(channel.pk) == "stored 100"

    assert Ticket.objects.filter(channel=channel).count() == 34
