"""Every registered webhook URL answers 4xx, never 5xx, to what an attacker can send.

The kinds come from ``channels.registry``, so a new webhook channel is covered as soon as it
registers: it only has to say here how its platform signs (``SIGNERS``), which the first test
demands. "Signed" cases carry a valid signature, as if the platform's secret had signed them:
parsing happens only after verification, and even then a hostile body is a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from channels import registry
from channels.models import WebhookDelivery
from inbox.models import Message
from tests.channels.facebook.support import APP_SECRET, signature_for
from tests.channels.x.conftest import CREDENTIALS, make_x_channel

pytestmark = pytest.mark.django_db


def _x_headers(body: bytes) -> dict[str, str]:
    digest = hmac.new(CREDENTIALS["consumer_secret"].encode(), body, hashlib.sha256).digest()
    return {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": "sha256=" + base64.b64encode(digest).decode()}


def _meta_headers(body: bytes) -> dict[str, str]:
    return {"HTTP_X_HUB_SIGNATURE_256": signature_for(body, APP_SECRET)}


def _x_setup(settings) -> None:
    make_x_channel()


def _meta_setup(settings) -> None:
    settings.META_APP_SECRET = APP_SECRET
    settings.META_WEBHOOK_VERIFY_TOKEN = "verify-me-123"


def _instagram_setup(settings) -> None:
    # An Instagram Login app signs with the Instagram app secret (docs/channels/instagram.md).
    settings.INSTAGRAM_APP_SECRET = APP_SECRET
    settings.META_APP_SECRET = "another-app-secret"
    settings.META_WEBHOOK_VERIFY_TOKEN = "verify-me-123"


def _whatsapp_setup(settings) -> None:
    # A WhatsApp number's app secret and verify token are the channel's own credentials.
    from tests.channels.whatsapp.support import whatsapp_channel

    whatsapp_channel()


def _whatsapp_headers(body: bytes) -> dict[str, str]:
    from tests.channels.whatsapp.support import signed

    return signed(body)


# intake name -> (set up a configured channel/app, headers that sign a body validly)
SIGNERS = {
    "x": (_x_setup, _x_headers),
    "facebook": (_meta_setup, _meta_headers),
    "instagram": (_instagram_setup, _meta_headers),
    "whatsapp": (_whatsapp_setup, _whatsapp_headers),
}

WEBHOOK_KINDS = [
    kind for kind, _ in registry.kinds() if registry.connector_class(kind).webhook is not None
]

NESTED = b'{"a":' * 100_000 + b"1" + b"}" * 100_000  # 600 kB, far deeper than any parser allows


def _cases(cap: int):
    return {
        "unsigned": (b'{"object": "page", "for_user_id": "1"}', "none"),
        "wrong signature": (b'{"object": "page", "for_user_id": "1"}', "wrong"),
        "empty": (b"", "valid"),
        "huge": (b'{"a": "' + b"x" * cap + b'"}', "valid"),
        "nested, signed": (NESTED, "valid"),
        "nested, unsigned": (NESTED, "wrong"),
        "not JSON, signed": (b"\xff\xfenot json at all", "valid"),
        "a JSON array, signed": (b"[1, 2, 3]", "valid"),
        "a JSON string, signed": (b'"hello"', "valid"),
    }


def test_every_webhook_kind_says_how_its_platform_signs():
    names = {registry.connector_class(kind).webhook.name for kind in WEBHOOK_KINDS}
    assert WEBHOOK_KINDS, "no webhook kind registered"
    assert names <= set(SIGNERS), f"add a signer for {names - set(SIGNERS)} to this test"


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
@pytest.mark.parametrize("case", list(_cases(0)))
def test_a_hostile_delivery_gets_a_4xx_and_stores_nothing(client, settings, kind, case):
    settings.WEBHOOK_MAX_BODY_BYTES = 64 * 1024
    setup, sign = SIGNERS[registry.connector_class(kind).webhook.name]
    setup(settings)
    body, signature = _cases(settings.WEBHOOK_MAX_BODY_BYTES)[case]
    headers = {"none": {}, "wrong": sign(b"another body"), "valid": sign(body)}[signature]

    response = client.post(
        f"/webhooks/{kind}/", data=body, content_type="application/json", **headers
    )

    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert not WebhookDelivery.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
def test_a_body_over_the_cap_is_refused_with_413_before_its_signature_is_checked(
    client, settings, kind
):
    settings.WEBHOOK_MAX_BODY_BYTES = 4096
    setup, sign = SIGNERS[registry.connector_class(kind).webhook.name]
    setup(settings)
    body = b'{"a": "' + b"x" * 5000 + b'"}'

    response = client.post(
        f"/webhooks/{kind}/", data=body, content_type="application/json", **sign(body)
    )

    assert response.status_code == 413


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_a_webhook_url_refuses_other_methods(client, settings, kind, method):
    setup, _sign = SIGNERS[registry.connector_class(kind).webhook.name]
    setup(settings)

    response = getattr(client, method)(f"/webhooks/{kind}/")

    assert response.status_code == 405


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
def test_a_handshake_without_its_parameters_is_a_4xx(client, settings, kind):
    setup, _sign = SIGNERS[registry.connector_class(kind).webhook.name]
    setup(settings)

    response = client.get(f"/webhooks/{kind}/")

    assert 400 <= response.status_code < 500
