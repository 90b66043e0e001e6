"""Kiyoh / Klantenvertellen: scores out of 10 as stars, the public response by PUT."""

import json
from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.auth import get_user_model
from responses import matchers

from channels.models import HealthState
from channels.tasks import poll_channel
from inbox.models import DeliveryState, Direction, Message, Ticket
from inbox.replies.services import reply_queue
from tests.factories import make_channel
from tests.reviews_support import ALL_HISTORY, fixture

pytestmark = pytest.mark.django_db

KIYOH = "https://www.kiyoh.com/v1/publication/review"
KLANTENVERTELLEN = "https://www.klantenvertellen.nl/v1/publication/review"
JEROEN = "3c6b1f8e-2a4d-4e7b-9f10-5d2c8a7e6b41"  # 4 out of 10
FATIMA = "a91e0d52-7c33-4b8a-8e1f-0c4d9b2f7a13"  # 10 out of 10, answered


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("lotte", first_name="Lotte")


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def kiyoh_channel(**settings):
    return make_channel(
        kind="kiyoh",
        credentials={"api_token": "kiyoh-publication-token-fixture"},
        settings={"location_id": "1063459", "backfill_days": ALL_HISTORY, **settings},
    )


def polled_channel(rsps, base=KIYOH, **settings):
    channel = kiyoh_channel(**settings)
    rsps.get(f"{base}/external", json=fixture("kiyoh/reviews.json"))
    poll_channel(channel.pk)
    return channel


def test_scores_out_of_ten_land_as_one_to_five_stars_keeping_the_original(rsps):
    channel = polled_channel(rsps)
    jeroen = Ticket.objects.get(channel=channel, thread_key=f"review:{JEROEN}")
    fatima = Ticket.objects.get(channel=channel, thread_key=f"review:{FATIMA}")
    assert jeroen.rating == 2 and fatima.rating == 5
    review = jeroen.messages.get(direction=Direction.INBOUND)
    assert review.raw["review"]["rating_out_of_10"] == 4
    assert (
        review.text == "Fiets na reparatie weer kapot\n\nNa twee dagen liep de ketting er weer af."
    )
    assert jeroen.identity.display_name == "Jeroen (Tilburg)"
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK


def test_the_listing_is_asked_per_location_and_tenant_with_the_publication_token(rsps):
    channel = polled_channel(rsps)
    call = rsps.calls[0].request
    assert call.headers["X-Publication-Api-Token"] == "kiyoh-publication-token-fixture"
    query = parse_qs(call.url.split("?", 1)[1])
    assert query["locationId"] == ["1063459"] and query["tenantId"] == ["98"]
    assert query["orderBy"] == ["UPDATE_DATE"] and query["sortOrder"] == ["ASC"]
    channel.refresh_from_db()
    assert channel.cursor["hwm"] == "2026-11-21T15:40:12+00:00"  # Fatima's update, in UTC
    assert channel.cursor["seen"] == [FATIMA]


def test_the_next_poll_asks_only_for_changes_since_the_mark_and_stores_nothing_twice(rsps):
    channel = polled_channel(rsps)
    rsps.get(
        f"{KIYOH}/external",
        json=fixture("kiyoh/reviews.json"),
        match=[
            matchers.query_param_matcher(
                {"updatedSince": "2026-11-21T15:40:12.000+00:00"}, strict_match=False
            )
        ],
    )
    before = Message.objects.count()
    poll_channel(channel.pk)
    assert Message.objects.count() == before


def test_our_response_on_kiyoh_is_ours_in_the_thread(rsps):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{FATIMA}")
    assert ticket.messages.get(direction=Direction.OUTBOUND).text == (
        "Dank je wel Fatima, tot de volgende keer!"
    )


def test_klantenvertellen_uses_its_own_host_and_tenant(rsps):
    channel = polled_channel(rsps, base=KLANTENVERTELLEN, tenant_id="99")
    assert parse_qs(rsps.calls[0].request.url.split("?", 1)[1])["tenantId"] == ["99"]
    assert Ticket.objects.filter(channel=channel).count() == 2


def test_a_reply_is_a_public_response_put_once(rsps, agent, django_capture_on_commit_callbacks):
    channel = polled_channel(rsps)
    ticket = Ticket.objects.get(channel=channel, thread_key=f"review:{JEROEN}")
    rsps.put(f"{KIYOH}/response", json=fixture("kiyoh/response_ok.json"))
    text = "Wat vervelend Jeroen! Kom langs, we maken het kosteloos in orde."
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text=text)
    puts = [c for c in rsps.calls if c.request.method == "PUT"]
    assert len(puts) == 1
    assert json.loads(puts[0].request.body) == {
        "locationId": "1063459",
        "tenantId": "98",
        "reviewId": JEROEN,
        "response": text,
        "reviewResponseType": "PUBLIC",
    }
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT


def test_an_invalid_publication_token_needs_a_reconnect(rsps):
    channel = kiyoh_channel()
    rsps.get(f"{KIYOH}/external", status=401, json=fixture("kiyoh/error_token.json"))
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert "Publication token is not valid" in channel.last_error


def test_an_error_code_inside_a_successful_answer_is_an_error_too(rsps):
    channel = kiyoh_channel()
    rsps.get(f"{KIYOH}/external", json=fixture("kiyoh/error_token.json"))
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert not Message.objects.filter(channel=channel).exists()


def test_a_full_page_is_followed_by_the_next_changes_until_nothing_newer_comes(rsps):
    channel = kiyoh_channel(page_size=2)
    rsps.get(
        f"{KIYOH}/external",
        json=fixture("kiyoh/reviews.json"),
        match=[matchers.query_param_matcher({"limit": "2"}, strict_match=False)],
    )
    poll_channel(channel.pk)
    assert len(rsps.calls) == 2  # the second call, from the new mark, brought nothing newer
    assert parse_qs(rsps.calls[1].request.url.split("?", 1)[1])["updatedSince"] == [
        "2026-11-21T15:40:12.000+00:00"
    ]
    assert Ticket.objects.filter(channel=channel).count() == 2
