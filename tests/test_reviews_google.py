"""Google Business Profile reviews: polled through the real poll task, answered through delivery."""

import datetime as dt
import json
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone
from responses import matchers

from channels.models import Channel, HealthState
from channels.reviews.base import reply_external_id
from channels.reviews.tokens import forget_all
from channels.tasks import poll_channel
from inbox.models import DeliveryState, Direction, Message, Ticket, TicketKind
from inbox.replies.delivery import RetryLater, message_deliver
from inbox.replies.services import reply_queue
from tests.factories import make_channel
from tests.reviews_support import ALL_HISTORY, fixture, fixture_text

pytestmark = pytest.mark.django_db

LOCATION = "https://mybusiness.googleapis.com/v4/accounts/1167203984/locations/8374651029384756"
REVIEWS = f"{LOCATION}/reviews"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SANNE = "AbFvOqnRk3yWq8Jt5s1VbX2cPz9LmN4o"  # five stars, already answered by us
MARK = "AbFvOqmT7hGd2Kx9WcE4rYp1NsQ8uZ3b"  # two stars, later edited to four
ANON = "AbFvOqj5Rt8Wy2Vb6Nm0Qx4Lk7Hs1Pd9"  # one star, on the second page
BROKEN = "AbFvOqkZ0broken0review0no0stars"  # no starRating
PAGE_TWO = "CiAKGjBpNDd2Nmp2Zm9rMHIzZ2dvZnFkaWwyanYSAggC"
FIRST_PAGE = {"pageSize": "50", "orderBy": "updateTime desc"}


@pytest.fixture(autouse=True)
def _fresh_tokens():
    forget_all()
    yield
    forget_all()


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("lotte", first_name="Lotte")


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


GOOD_REFRESH = "1//0gFixtureRefreshToken"


def google_channel(refresh_token=GOOD_REFRESH, **settings):
    return make_channel(
        kind="google_reviews",
        credentials={
            "client_id": "401953270134-fixture.apps.googleusercontent.com",
            "client_secret": "GOCSPX-fixture",
            "refresh_token": refresh_token,
        },
        settings={
            "account_id": "accounts/1167203984",
            "location_id": "8374651029384756",
            "backfill_days": ALL_HISTORY,
            **settings,
        },
    )


def token_ok(rsps):
    rsps.post(TOKEN_URL, json=fixture("google/token.json"))


def both_pages(rsps):
    rsps.get(
        REVIEWS,
        json=fixture("google/reviews_page1.json"),
        match=[matchers.query_param_matcher(FIRST_PAGE)],
    )
    rsps.get(
        REVIEWS,
        json=fixture("google/reviews_page2.json"),
        match=[matchers.query_param_matcher({**FIRST_PAGE, "pageToken": PAGE_TWO})],
    )


def polled_channel(rsps):
    channel = google_channel()
    token_ok(rsps)
    both_pages(rsps)
    poll_channel(channel.pk)
    return channel


def calls_to(rsps, method, url):
    return [c for c in rsps.calls if c.request.method == method and c.request.url.startswith(url)]


def test_new_reviews_land_as_review_tickets_with_their_stars(rsps):
    channel = polled_channel(rsps)
    tickets = {t.thread_key: t for t in Ticket.objects.filter(channel=channel)}
    assert set(tickets) == {f"review:{SANNE}", f"review:{MARK}", f"review:{ANON}"}
    assert all(t.kind == TicketKind.REVIEW for t in tickets.values())
    assert tickets[f"review:{SANNE}"].rating == 5
    assert tickets[f"review:{MARK}"].rating == 2
    assert tickets[f"review:{ANON}"].rating == 1
    mark = tickets[f"review:{MARK}"]
    assert mark.identity.display_name == "Mark Jansen"
    assert mark.last_message_preview.startswith("Pakket kwam twee dagen te laat")
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK


def test_our_existing_reply_on_google_is_shown_as_ours_in_the_same_thread(rsps):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{SANNE}")
    ours = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ours.text == "Dank je wel Sanne, fijn om te horen!"
    assert ours.external_id == reply_external_id(SANNE, ours.text)
    assert ticket.waiting_since is None and ticket.first_response_at is not None


def test_pages_are_followed_by_their_token_and_the_mark_moves_only_at_the_end(rsps):
    channel = polled_channel(rsps)
    listing = calls_to(rsps, "GET", REVIEWS)
    assert len(listing) == 2
    assert parse_qs(listing[1].request.url.split("?", 1)[1])["pageToken"] == [PAGE_TWO]
    channel.refresh_from_db()
    assert "run" not in channel.cursor
    assert channel.cursor["hwm"] == "2026-11-20T11:02:45.553120+00:00"
    assert channel.cursor["seen"] == [SANNE]


def test_a_review_without_stars_is_skipped_with_a_warning_not_a_failed_batch(rsps):
    channel = polled_channel(rsps)
    assert not Message.objects.filter(external_id=BROKEN).exists()
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert channel.cursor["warnings"][0]["review"] == BROKEN
    assert "starRating" in channel.cursor["warnings"][0]["reason"]


def test_a_poll_with_nothing_new_stores_nothing_and_reads_one_page(rsps):
    channel = polled_channel(rsps)
    rsps.get(
        REVIEWS,
        json=fixture("google/reviews_page1.json"),
        match=[matchers.query_param_matcher(FIRST_PAGE)],
    )
    before = Message.objects.count()
    poll_channel(channel.pk)
    assert Message.objects.count() == before
    assert (
        len(calls_to(rsps, "GET", REVIEWS)) == 3
    )  # two pages, then one page that reached the mark


def test_an_edited_review_updates_its_ticket_and_stars_instead_of_opening_a_new_one(rsps):
    channel = polled_channel(rsps)
    rsps.get(
        REVIEWS,
        json=fixture("google/reviews_edited.json"),
        match=[matchers.query_param_matcher(FIRST_PAGE)],
    )
    poll_channel(channel.pk)
    assert Ticket.objects.filter(channel=channel).count() == 3
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{MARK}")
    review = ticket.messages.get(direction=Direction.INBOUND)
    assert review.rating == 4 and ticket.rating == 4
    assert review.text.startswith("Update: de klantenservice heeft het netjes opgelost")
    assert review.edited_at is not None
    assert ticket.last_inbound_at == dt.datetime(2026, 11, 21, 10, 5, 37, 129385, tzinfo=dt.UTC)
    channel.refresh_from_db()
    assert channel.cursor["hwm"] == "2026-11-21T10:05:37.129385+00:00"


def test_an_agents_reply_is_put_once_on_the_review_and_its_echo_is_not_a_second_message(
    rsps, agent, django_capture_on_commit_callbacks
):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{MARK}")
    text = "Sorry Mark, we zoeken het vandaag voor je uit."
    rsps.put(f"{REVIEWS}/{MARK}/reply", json=fixture("google/reply.json"))
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text=text)
    puts = calls_to(rsps, "PUT", REVIEWS)
    assert len(puts) == 1
    assert puts[0].request.url == f"{REVIEWS}/{MARK}/reply"
    assert json.loads(puts[0].request.body) == {"comment": text}
    assert puts[0].request.headers["Authorization"].startswith("Bearer ya29.")
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    assert message.external_id == reply_external_id(MARK, text)

    # The next poll sees our reply on the review: it is the same message, not a new one.
    replied = fixture("google/review_replied.json")
    rsps.get(
        REVIEWS,
        json={"reviews": [replied], "averageRating": 3.8, "totalReviewCount": 4},
        match=[matchers.query_param_matcher(FIRST_PAGE)],
    )
    poll_channel(channel.pk)
    outbound = ticket.messages.filter(direction=Direction.OUTBOUND)
    assert outbound.count() == 1 and outbound.get().author_user == agent


@pytest.mark.usefixtures("recorded_clock")
def test_updating_our_existing_reply_puts_the_new_text_and_keeps_both_versions(
    rsps, agent, django_capture_on_commit_callbacks
):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{SANNE}")
    text = "Dank je wel Sanne! Tot de volgende bestelling."
    rsps.put(
        f"{REVIEWS}/{SANNE}/reply",
        json={"comment": text, "updateTime": "2026-11-22T15:00:00Z"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text=text)
    puts = calls_to(rsps, "PUT", REVIEWS)
    assert len(puts) == 1 and json.loads(puts[0].request.body) == {"comment": text}
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    versions = ticket.messages.filter(direction=Direction.OUTBOUND).order_by("sent_at")
    assert [m.text for m in versions] == ["Dank je wel Sanne, fijn om te horen!", text]


def test_a_reply_whose_answer_timed_out_is_found_on_google_and_not_put_twice(rsps, agent):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{MARK}")
    text = "Sorry Mark, we zoeken het vandaag voor je uit."
    message = Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Direction.OUTBOUND,
        author_user=agent,
        text=text,
        reply_mode="public",
        delivery_state=DeliveryState.QUEUED,
        idempotency_key="reply-timeout-1",
    )
    rsps.put(f"{REVIEWS}/{MARK}/reply", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(RetryLater):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENDING

    rsps.get(f"{REVIEWS}/{MARK}", json=fixture("google/review_replied.json"))
    assert message_deliver(message_id=message.pk) == "sent (found earlier attempt)"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    assert message.external_id == reply_external_id(MARK, text)
    assert len(calls_to(rsps, "PUT", REVIEWS)) == 1


def test_an_expired_refresh_token_needs_a_reconnect_and_leaves_other_channels_alone(rsps):
    expired = google_channel(refresh_token="1//0gRevokedToken")
    healthy = google_channel(refresh_token="1//0gFixtureRefreshToken")
    rsps.post(
        TOKEN_URL,
        status=400,
        json=fixture("google/token_invalid_grant.json"),
        match=[
            matchers.urlencoded_params_matcher(
                {"refresh_token": "1//0gRevokedToken"}, allow_blank=True, strict_match=False
            )
        ],
    )
    rsps.post(
        TOKEN_URL,
        json=fixture("google/token.json"),
        match=[
            matchers.urlencoded_params_matcher(
                {"refresh_token": "1//0gFixtureRefreshToken"}, strict_match=False
            )
        ],
    )
    both_pages(rsps)
    poll_channel(expired.pk)
    poll_channel(healthy.pk)
    expired.refresh_from_db()
    healthy.refresh_from_db()
    assert expired.health_state == HealthState.NEEDS_RECONNECT
    assert "Token has been expired or revoked" in expired.last_error
    assert not Ticket.objects.filter(channel=expired).exists()
    assert healthy.health_state == HealthState.OK
    assert Ticket.objects.filter(channel=healthy).count() == 3


def test_an_access_token_google_rejects_is_renewed_once(rsps):
    channel = google_channel()
    token_ok(rsps)
    rsps.get(REVIEWS, status=401, json=fixture("google/error_401.json"))
    rsps.get(REVIEWS, json=fixture("google/reviews_page2.json"))
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert len(calls_to(rsps, "POST", TOKEN_URL)) == 2
    assert Ticket.objects.filter(channel=channel).count() == 1


def test_a_location_we_may_not_manage_needs_a_reconnect_with_googles_message(rsps):
    channel = google_channel()
    token_ok(rsps)
    rsps.get(REVIEWS, status=403, json=fixture("google/error_403.json"))
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert channel.last_error == "Google: 403 The caller does not have permission"


def test_a_rate_limit_waits_as_long_as_google_asks(rsps):
    channel = google_channel()
    token_ok(rsps)
    rsps.get(
        REVIEWS, status=429, json=fixture("google/error_429.json"), headers={"Retry-After": "120"}
    )
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.RATE_LIMITED
    assert "Quota exceeded" in channel.last_error
    wait = channel.rate_limited_until - timezone.now()
    assert dt.timedelta(seconds=100) < wait <= dt.timedelta(seconds=121)


def test_an_outage_degrades_the_channel_and_stores_nothing(rsps):
    channel = google_channel()
    token_ok(rsps)
    rsps.get(
        REVIEWS, status=503, body=fixture_text("google/error_503.html"), content_type="text/html"
    )
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert channel.last_error.startswith("Google: 503")
    assert not Message.objects.filter(channel=channel).exists()


def test_the_channel_form_fields_and_a_connection_test(rsps):
    channel = google_channel()
    connector = channel.connector()
    assert set(connector.credential_fields) == {"client_id", "client_secret", "refresh_token"}
    assert {"account_id", "location_id"} <= set(connector.settings_fields)
    assert connector.auto_ack_default is False
    token_ok(rsps)
    rsps.get(
        REVIEWS,
        json=fixture("google/reviews_page2.json"),
        match=[matchers.query_param_matcher({"pageSize": "1"})],
    )
    info = connector.test_connection()
    assert info.account_id == "8374651029384756"
    assert info.display_name == "accounts/1167203984/locations/8374651029384756"
    assert info.detail == "4 reviews, average 3.8 stars"
    assert Channel.objects.get(pk=channel.pk).kind == "google_reviews"


def test_a_poll_cut_off_between_pages_resumes_from_the_page_token_without_skipping(rsps):
    channel = google_channel()
    token_ok(rsps)
    rsps.get(
        REVIEWS,
        json=fixture("google/reviews_page1.json"),
        match=[matchers.query_param_matcher(FIRST_PAGE)],
    )
    rsps.get(
        REVIEWS,
        status=503,
        body=fixture_text("google/error_503.html"),
        match=[matchers.query_param_matcher({**FIRST_PAGE, "pageToken": PAGE_TWO})],
    )
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert channel.cursor["run"]["page"] == PAGE_TWO  # page one is stored, its mark not yet
    assert "hwm" not in channel.cursor or channel.cursor["hwm"] is None

    Channel.objects.filter(pk=channel.pk).update(next_poll_at=None)
    rsps.replace(
        responses.GET,
        REVIEWS,
        json=fixture("google/reviews_page2.json"),
        match=[matchers.query_param_matcher({**FIRST_PAGE, "pageToken": PAGE_TWO})],
    )
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert Ticket.objects.filter(channel=channel).count() == 3
    assert channel.cursor["hwm"] == "2026-11-20T11:02:45.553120+00:00"
    assert "run" not in channel.cursor


def test_a_review_edited_after_our_reply_waits_for_an_answer_again(rsps):
    channel = polled_channel(rsps)
    edited = fixture("google/reviews_page1.json")["reviews"][0]
    edited.update(
        starRating="THREE",
        comment="Toch nog een kras op de lamp gevonden.",
        updateTime="2026-11-22T08:00:00Z",
    )
    rsps.get(
        REVIEWS,
        json={"reviews": [edited], "averageRating": 3.5, "totalReviewCount": 4},
        match=[matchers.query_param_matcher(FIRST_PAGE)],
    )
    poll_channel(channel.pk)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{SANNE}")
    assert ticket.rating == 3
    assert ticket.waiting_since == dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


def _queued_reply(channel, agent, text="Sorry Mark, we zoeken het uit.", key="reply-1"):
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{MARK}")
    return Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Direction.OUTBOUND,
        author_user=agent,
        text=text,
        reply_mode="public",
        delivery_state=DeliveryState.QUEUED,
        idempotency_key=key,
    )


def test_a_rate_limited_reply_waits_in_the_queue_and_shows_in_the_channels_health(rsps, agent):
    channel = polled_channel(rsps)
    message = _queued_reply(channel, agent)
    rsps.put(
        f"{REVIEWS}/{MARK}/reply",
        status=429,
        json=fixture("google/error_429.json"),
        headers={"Retry-After": "60"},
    )
    with pytest.raises(RetryLater) as retry:
        message_deliver(message_id=message.pk)
    assert 55 <= retry.value.countdown <= 62
    message.refresh_from_db()
    channel.refresh_from_db()
    assert message.delivery_state == DeliveryState.QUEUED
    assert "Quota exceeded" in message.failure_reason
    assert channel.rate_limited_until is not None


def test_a_reply_on_a_channel_whose_consent_was_revoked_fails_with_googles_reason(rsps, agent):
    channel = polled_channel(rsps)
    message = _queued_reply(channel, agent)
    forget_all()  # a new worker: no access token in memory
    rsps.replace(
        responses.POST, TOKEN_URL, status=400, json=fixture("google/token_invalid_grant.json")
    )
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert "Token has been expired or revoked" in message.failure_reason
    assert calls_to(rsps, "PUT", REVIEWS) == []
