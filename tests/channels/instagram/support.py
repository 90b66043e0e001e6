"""Shared pieces of the Instagram tests: ids, channels, Meta-shaped bodies.

Every body here copies a documented shape (docs/channels/instagram.md, "Sources"):
- webhook envelopes, ``comments`` and ``messaging`` values: Instagram Platform, "Webhook
  Notification Examples" (Business Login for Instagram),
  https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
- the ``comments`` value fields (``from``, ``media``, ``parent_id``): Graph API webhooks
  reference, Instagram, https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
- ``share`` attachments with ``ig_post_media_id``:
  https://developers.facebook.com/docs/instagram-platform/webhooks/new
- reactions: Messenger's ``message_reactions`` reference (the Instagram Messaging webhooks share
  it), https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-reactions
- comments lists (``timestamp``, ``text``, ``id``): "Comment moderation",
  https://developers.facebook.com/docs/instagram-api/guides/comment-moderation
- ``refresh_access_token`` answers: https://developers.facebook.com/documentation/instagram-platform/reference/refresh_access_token
"""

from __future__ import annotations

import json

from django.conf import settings

from channels.facebook.webhooks import signature_for
from tests.factories import make_channel

ACCOUNT_ID = "17841400000000001"
HANDLE = "webcare.demo.shop"
IGSID = "1234567890123456"
MEDIA_ID = "17895695668004550"
C1 = "17873440459141021"
R1 = "17870913679156914"
MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDE6MzQwMjgyMzY2ODQxNzEwMzAxMjQ0"
APP_SECRET = "ig-app-secret-7c1d"
TOKEN = "IGAAT-long-lived-token"


def graph(path: str = "") -> str:
    return f"https://graph.instagram.com/{settings.GRAPH_API_VERSION}/{path}"


def channel(**kwargs):
    kwargs.setdefault("settings", {"account_id": ACCOUNT_ID, "media_depth": 3})
    kwargs.setdefault("credentials", {"access_token": TOKEN})
    kwargs.setdefault("own_account_id", ACCOUNT_ID)
    kwargs.setdefault("own_handle", HANDLE)
    return make_channel("instagram", **kwargs)


def envelope(*, time: int, changes=None, messaging=None) -> dict:
    entry: dict = {"id": ACCOUNT_ID, "time": time}
    if changes is not None:
        entry["changes"] = changes
    if messaging is not None:
        entry["messaging"] = messaging
    return {"object": "instagram", "entry": [entry]}


def comment_change(
    comment_id=C1, *, text="Is this in size M?", parent_id=None, who=IGSID, username="anna.de.vries"
):
    value = {
        "from": {"id": who, "username": username},
        "media": {"id": MEDIA_ID, "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    if parent_id:
        value["parent_id"] = parent_id
    return {"field": "comments", "value": value}


def dm_event(*, mid=MID, text="Hoi! Do you ship to Belgium?", ts=1765100000000, **message):
    return {
        "sender": {"id": IGSID},
        "recipient": {"id": ACCOUNT_ID},
        "timestamp": ts,
        "message": {"mid": mid, **({"text": text} if text is not None else {}), **message},
    }


def body(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def signed(raw: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"HTTP_X_HUB_SIGNATURE_256": signature_for(raw, secret)}


def deliver(client, payload: dict, headers=None):
    raw = body(payload)
    return client.post(
        "/webhooks/instagram/",
        data=raw,
        content_type="application/json",
        **(signed(raw) if headers is None else headers),
    )


def graph_error(code: int, message: str, subcode: int | None = None) -> dict:
    """Meta's error body (Graph API "Handling errors" and Instagram's error codes page)."""
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC123"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}
