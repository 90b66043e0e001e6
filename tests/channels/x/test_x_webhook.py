"""X's Account Activity webhook: CRC, signatures, and one message per tweet however it came."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from channels.tasks import poll_channel
from inbox.ingest.services import ingest_batch
from inbox.models import Direction, Message, Ticket
from tests.factories import item

from .conftest import CREDENTIALS, DM_EVENTS, MENTIONS, OWN_ID, load, make_x_channel, raw

pytestmark = pytest.mark.django_db

URL = "/webhooks/x/"
SECRET = CREDENTIALS["consumer_secret"]


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, "sha256").digest()).decode()


def _post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_the_crc_check_is_answered_with_the_hmac_of_the_token(client):
    make_x_channel()

    response = client.get(URL, {"crc_token": "9b4507b3-9040-4669-9ec0-e8a3c6f4c2d8"})

    expected = base64.b64encode(
        hmac.new(SECRET.encode(), b"9b4507b3-9040-4669-9ec0-e8a3c6f4c2d8", hashlib.sha256).digest()
    ).decode()
    assert response.status_code == 200
    assert response.json() == {"response_token": f"sha256={expected}"}


def test_a_signed_mention_is_stored(client, eager_celery):
    channel = make_x_channel()
    body = raw("webhook_tweet_create.json")

    response = _post(client, body, _sign(body))

    assert response.status_code == 200
    message = Message.objects.get(channel=channel)
    assert message.external_id == "1860000000000000030"
    assert message.author_identity.handle == "jan_de_vries"


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=bm90IHRoZSByaWdodCBzaWduYXR1cmU=", _sign(b"another body")],
    ids=["missing", "empty", "wrong", "of another body"],
)
def test_an_unsigned_or_badly_signed_delivery_is_refused_and_nothing_stored(
    client, eager_celery, signature
):
    make_x_channel()
    body = raw("webhook_tweet_create.json")

    response = _post(client, body, signature)

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_delivery_signed_with_another_apps_secret_is_refused(client, eager_celery):
    make_x_channel()
    body = raw("webhook_tweet_create.json")

    assert _post(client, body, _sign(body, "someone-elses-secret")).status_code == 403
    assert not Message.objects.exists()


def test_a_replayed_delivery_stores_nothing_twice(client, eager_celery):
    make_x_channel()
    body = raw("webhook_tweet_create.json")

    assert _post(client, body, _sign(body)).status_code == 200
    replay = _post(client, body, _sign(body))
    assert replay.status_code == 200 and replay.json() == {"ok": True, "replay": True}

    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_webhook_reply_then_a_poll_of_it_make_one_message_in_the_right_thread(
    client, eager_celery, api
):
    channel = make_x_channel()
    page = load("mentions_page1.json")
    page["meta"].pop("next_token")
    api.get(MENTIONS, json=page)
    poll_channel(channel.pk)
    # Our reply (tweet ...020) was sent from Webcare and is stored in the conversation.
    ingest_batch(
        channel_id=channel.pk,
        items=[item("1860000000000000020", thread="conv:1860000000000000010", is_ours=True)],
    )
    body = raw("webhook_tweet_create.json")
    assert _post(client, body, _sign(body)).status_code == 200
    api.reset()
    api.get(MENTIONS, json=load("mentions_thread_reply.json"))

    poll_channel(channel.pk)

    assert Message.objects.filter(external_id="1860000000000000030").count() == 1
    ticket = Ticket.objects.get(thread_key="conv:1860000000000000010")
    assert set(ticket.messages.values_list("external_id", flat=True)) == {
        "1860000000000000010",
        "1860000000000000020",
        "1860000000000000030",
    }


def test_a_webhook_dm_joins_the_polled_dm_conversation(client, eager_celery, api):
    channel = make_x_channel(settings={})
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(DM_EVENTS, json=load("dm_events.json"))
    poll_channel(channel.pk)
    body = raw("webhook_dm.json")

    assert _post(client, body, _sign(body)).status_code == 200

    ticket = Ticket.objects.get(channel=channel)
    assert ticket.thread_key == f"dm:2244994945-{OWN_ID}"
    latest = ticket.messages.get(external_id="1860000000000000110")
    assert latest.direction == Direction.INBOUND and latest.text == "Order number is 4471"


def test_a_delivery_for_an_account_we_do_not_serve_is_refused(client, eager_celery):
    make_x_channel(own_account_id="1999999999999999999")
    body = raw("webhook_tweet_create.json")

    assert _post(client, body, _sign(body)).status_code == 403
    assert not Message.objects.exists()


def test_a_malformed_body_is_refused(client):
    make_x_channel()

    assert _post(client, b"{not json", _sign(b"{not json")).status_code == 400


def test_events_we_do_not_handle_are_acknowledged_and_ignored(client, eager_celery):
    make_x_channel()
    body = (
        b'{"for_user_id": "1500000000000000001", "favorite_events": [{"id": "a1",'
        b' "favorited_status": {"id_str": "1860000000000000010"}}]}'
    )

    response = _post(client, body, _sign(body))

    assert response.status_code == 200
    assert not Message.objects.exists()
