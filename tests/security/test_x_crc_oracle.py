"""X's CRC answer is no signing oracle, and Meta's handshake echo is no reflection.

The CRC answer is HMAC-SHA256(consumer secret, crc_token), the very signature a delivery is
checked with. If any token were answered, a JSON body sent as ``crc_token`` would come back
with its valid delivery signature. Only tokens shaped as X sends them are answered
(docs/channels/x.md), and none of those can be a delivery body.
"""

from __future__ import annotations

import json

import pytest

from channels.models import WebhookDelivery
from inbox.models import Message
from tests.channels.facebook.support import VERIFY_TOKEN
from tests.channels.x.conftest import OWN_ID, make_x_channel, raw

pytestmark = pytest.mark.django_db

URL = "/webhooks/x/"


def _forged_body() -> bytes:
    body = json.loads(raw("webhook_tweet_create.json"))
    body["tweet_create_events"][0]["text"] = "Forged: click https://evil.example"
    body["tweet_create_events"][0]["user"]["profile_image_url_https"] = "https://evil.example/p"
    return json.dumps(body, separators=(",", ":")).encode()


def test_the_forged_crc_round_trip_is_refused_and_stores_nothing(client):
    make_x_channel()
    body = _forged_body()

    answer = client.get(URL, {"crc_token": body.decode()})
    # What an attacker would post as the signature: the CRC answer's token, if it gave one.
    is_json = answer["Content-Type"].startswith("application/json")
    token = answer.json().get("response_token", "") if is_json else ""
    delivery = client.post(
        URL, data=body, content_type="application/json", HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=token
    )

    assert answer.status_code == 400 and token == ""
    assert delivery.status_code == 403
    assert not WebhookDelivery.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "token",
    [
        '{"for_user_id":"' + OWN_ID + '"}',
        "[1]",
        '"quoted-token-long-enough"',
        "9b4507b3 9040 4669 9ca3 6b94edb50553",
        "9b4507b3-9040-4669-9ca3-6b94edb50553\n",
        "a:b,c-d-e-f-g-h-i-j-k",
        "<script>alert(1)</script>",
        "x" * 129,
        "short",
    ],
    ids=["object", "array", "quotes", "spaces", "newline", "colon", "markup", "long", "short"],
)
def test_a_crc_token_not_shaped_as_x_sends_it_is_not_signed(client, token):
    make_x_channel()

    response = client.get(URL, {"crc_token": token})

    assert response.status_code == 400
    assert b"response_token" not in response.content


@pytest.mark.parametrize(
    "token",
    [
        "9b4507b3-9040-4669-9ca3-6b94edb50553",  # X's own sample (a UUID)
        "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Cg==",  # base64
        "vD3Fq_k9-Rz2mT0wXy8aB1cE4gH6jK7lN5oP",  # base64url
    ],
)
def test_a_crc_token_shaped_as_x_sends_it_is_answered(client, token):
    make_x_channel()

    response = client.get(URL, {"crc_token": token})

    assert response.status_code == 200
    assert response.json()["response_token"].startswith("sha256=")


def test_metas_handshake_echoes_a_numeric_challenge_as_plain_text(client, settings):
    settings.META_WEBHOOK_VERIFY_TOKEN = VERIFY_TOKEN
    response = client.get(
        "/webhooks/facebook/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )

    assert response.status_code == 200 and response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "challenge", ["<script>alert(1)</script>", "1" * 129, '{"object":"page"}', "a b"]
)
def test_metas_handshake_never_echoes_markup_json_or_a_long_challenge(client, settings, challenge):
    settings.META_WEBHOOK_VERIFY_TOKEN = VERIFY_TOKEN
    response = client.get(
        "/webhooks/facebook/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": challenge},
    )

    assert response.status_code == 400
    assert challenge.encode() not in response.content
