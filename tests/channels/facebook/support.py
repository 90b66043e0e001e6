"""Shared pieces of the Facebook channel tests: fixtures, channels, the Graph base URL."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from channels.facebook.webhooks import signature_for
from tests.factories import make_channel

FIXTURES = Path(__file__).parents[2] / "fixtures" / "facebook"
PAGE_ID = "104857600123456"
POST_ID = f"{PAGE_ID}_900000000000001"
VISITOR_POST_ID = f"{PAGE_ID}_900000000000002"
C1 = "900000000000001_1110000000000001"
R1 = "900000000000001_1110000000000002"
R2 = "900000000000001_1110000000000003"
C2 = "900000000000001_1110000000000004"
C3 = "900000000000001_1110000000000005"
PSID = "2451000000000001"
APP_SECRET = "test-app-secret-5f2b"
VERIFY_TOKEN = "verify-me-123"
# Fixture comments are from 2026-11-20; polls start from the day before.
SINCE = {"since": "2026-11-19T00:00:00+00:00"}


def graph(path: str = "") -> str:
    return f"https://graph.facebook.com/{settings.GRAPH_API_VERSION}/{path}"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def debug_token_ok(**changes):
    """A healthy ``debug_token`` answer whose times are relative to the (possibly frozen) clock.

    The recorded fixture's ``issued_at`` and ``data_access_expires_at`` are moments that pass;
    Meta gives data access 90 days from the admin's last use of the app, so the answer is issued
    a day ago and its data access runs 89 more days, whatever today is."""
    from django.utils import timezone

    now = int(timezone.now().timestamp())
    body = load("debug_token_ok.json")
    body["data"].update(issued_at=now - 86_400, data_access_expires_at=now + 89 * 86_400)
    body["data"].update(changes)
    return body


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"HTTP_X_HUB_SIGNATURE_256": signature_for(body, secret)}


def page_channel(**kwargs):
    kwargs.setdefault("settings", {"page_id": PAGE_ID, "feed_depth": 3})
    kwargs.setdefault("credentials", {"page_access_token": "EAAG-page-token"})
    kwargs.setdefault("own_account_id", PAGE_ID)
    return make_channel("facebook", **kwargs)


def messenger_channel(**kwargs):
    kwargs.setdefault("settings", {"page_id": PAGE_ID})
    kwargs.setdefault("credentials", {"page_access_token": "EAAG-page-token"})
    kwargs.setdefault("own_account_id", PAGE_ID)
    return make_channel("messenger", **kwargs)
