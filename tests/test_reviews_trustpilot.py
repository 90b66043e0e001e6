"""Trustpilot service reviews: private listing by pages, edits by re-reading, reply or replace."""

import json

import pytest
import responses
from django.contrib.auth import get_user_model
from responses import matchers

from channels.models import Channel, HealthState
from channels.reviews.base import reply_external_id
from channels.reviews.tokens import forget_all
from channels.tasks import poll_channel
from inbox.models import DeliveryState, Direction, Ticket
from inbox.replies.services import reply_queue
from tests.factories import make_channel
from tests.reviews_support import ALL_HISTORY, fixture

pytestmark = pytest.mark.django_db

API = "https://api.trustpilot.com/v1"
TOKEN_URL = f"{API}/oauth/oauth-business-users-for-applications/accesstoken"
UNIT = "507f191e810c19729de860ea"
AUTHOR = "507f191e810c19729de860eb"
LISTING = f"{API}/private/business-units/{UNIT}/reviews"
EMMA = "6745a1b2c3d4e5f601234567"  # one star, later edited to four
PIETER = "6744f0e1d2c3b4a509876543"  # four stars, already answered
SMIT = "6743c9d8e7f6a5b4c3d2e1f0"  # three stars, on page two


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


def trustpilot_channel(**settings):
    return make_channel(
        kind="trustpilot",
        credentials={"api_key": "tp-api-key-fixture", "api_secret": "tp-api-secret-fixture"},
        settings={
            "business_unit_id": UNIT,
            "business_user_id": AUTHOR,
            "page_size": 2,
            "backfill_days": ALL_HISTORY,
            **settings,
        },
    )


def page(number):
    return matchers.query_param_matcher(
        {"orderBy": "createdat.desc", "perPage": "2", "page": str(number)}, strict_match=False
    )


def polled_channel(rsps, **settings):
    channel = trustpilot_channel(**settings)
    rsps.post(TOKEN_URL, json=fixture("trustpilot/token.json"))
    rsps.get(LISTING, json=fixture("trustpilot/reviews_page1.json"), match=[page(1)])
    rsps.get(LISTING, json=fixture("trustpilot/reviews_page2.json"), match=[page(2)])
    poll_channel(channel.pk)
    return channel


def calls_to(rsps, method, url):
    return [c for c in rsps.calls if c.request.method == method and c.request.url.startswith(url)]


def test_new_reviews_land_as_review_tickets_with_their_stars(rsps):
    channel = polled_channel(rsps)
    ratings = {t.thread_key: t.rating for t in Ticket.objects.filter(channel=channel)}
    assert ratings == {f"review:{EMMA}": 1, f"review:{PIETER}": 4, f"review:{SMIT}": 3}
    emma = Ticket.objects.get(channel=channel, thread_key=f"review:{EMMA}")
    assert emma.subject.startswith("Still waiting for my refund")
    assert emma.identity.platform_user_id == "5f1e2d3c4b5a697887654321"
    assert emma.language == "en"
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK


def test_the_listing_is_read_with_a_client_credentials_token_page_by_page(rsps):
    polled_channel(rsps)
    token = calls_to(rsps, "POST", TOKEN_URL)
    assert len(token) == 1
    assert token[0].request.headers["Authorization"].startswith("Basic ")
    assert token[0].request.body == "grant_type=client_credentials"
    listing = calls_to(rsps, "GET", LISTING)
    assert len(listing) == 2  # page 2 was not full: the run ends there
    assert listing[0].request.headers["Authorization"] == "Bearer AcCeSsToKeN-fixture-0f3c"


def test_our_existing_company_reply_is_ours_in_the_thread(rsps):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{PIETER}")
    ours = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ours.text == "Bedankt Pieter! We werken aan snellere levering."
    assert ticket.waiting_since is None


def test_an_edited_review_is_found_by_reading_the_recent_window_again(rsps):
    channel = polled_channel(rsps, rescan_hours=0)
    rsps.get(LISTING, json=fixture("trustpilot/reviews_edited.json"), match=[page(1)])
    poll_channel(channel.pk)
    assert Ticket.objects.filter(channel=channel).count() == 3
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{EMMA}")
    review = ticket.messages.get(direction=Direction.INBOUND)
    assert ticket.rating == 4 and review.rating == 4
    assert review.text.startswith("Refund arrived")
    assert review.edited_at is not None
    channel.refresh_from_db()
    assert channel.cursor["rescanned_at"]


def test_a_reply_is_posted_once_as_the_business_user(
    rsps, agent, django_capture_on_commit_callbacks
):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{EMMA}")
    unanswered = fixture("trustpilot/review_with_reply.json")
    unanswered["companyReply"] = None
    rsps.get(f"{API}/reviews/{EMMA}", json=unanswered)
    rsps.post(f"{API}/private/reviews/{EMMA}/reply", status=201)
    text = "Sorry Emma, we have sent the refund today."
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text=text)
    posts = calls_to(rsps, "POST", f"{API}/private/reviews/")
    assert len(posts) == 1
    assert json.loads(posts[0].request.body) == {"message": text, "authorBusinessUserId": AUTHOR}
    assert calls_to(rsps, "DELETE", API) == []
    assert calls_to(rsps, "GET", f"{API}/reviews/")[0].request.headers["apikey"] == (
        "tp-api-key-fixture"
    )
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    assert message.external_id == reply_external_id(EMMA, text)


def test_updating_an_existing_reply_replaces_it(rsps, agent, django_capture_on_commit_callbacks):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{EMMA}")
    rsps.get(f"{API}/reviews/{EMMA}", json=fixture("trustpilot/review_with_reply.json"))
    rsps.delete(f"{API}/private/reviews/{EMMA}/reply", status=204)
    rsps.post(f"{API}/private/reviews/{EMMA}/reply", status=201)
    text = "Sorry Emma, the refund was sent today; it can take 3 working days."
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text=text)
    writes = [c.request.method for c in rsps.calls if c.request.url.endswith(f"{EMMA}/reply")]
    assert writes == ["DELETE", "POST"]
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT


def test_a_reply_already_on_the_review_is_not_posted_again(
    rsps, agent, django_capture_on_commit_callbacks
):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{EMMA}")
    rsps.get(f"{API}/reviews/{EMMA}", json=fixture("trustpilot/review_with_reply.json"))
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(
            ticket=ticket, author=agent, text="Sorry Emma,  we have sent the refund today."
        )
    assert [c for c in rsps.calls if c.request.url.endswith("/reply")] == []
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT


def test_credentials_trustpilot_refuses_need_a_reconnect(rsps):
    channel = trustpilot_channel()
    rsps.post(TOKEN_URL, status=401, json=fixture("trustpilot/token_invalid.json"))
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert channel.last_error.startswith("Trustpilot: 401")


def test_a_rate_limit_without_retry_after_waits_the_default(rsps):
    channel = trustpilot_channel()
    rsps.post(TOKEN_URL, json=fixture("trustpilot/token.json"))
    rsps.get(LISTING, status=429, json={"message": "Too Many Requests"})
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.RATE_LIMITED
    assert channel.last_error == "Trustpilot: 429 Too Many Requests"
    assert channel.rate_limited_until is not None


def test_the_connection_test_names_the_company(rsps):
    channel = trustpilot_channel()
    rsps.post(TOKEN_URL, json=fixture("trustpilot/token.json"))
    rsps.get(
        f"{API}/business-units/{UNIT}/profileinfo", json=fixture("trustpilot/profileinfo.json")
    )
    info = channel.connector().test_connection()
    assert info.account_id == UNIT and info.display_name == "Webshop B.V."
    assert Channel.objects.get(pk=channel.pk).connector().auto_ack_default is False
