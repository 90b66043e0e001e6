"""``/webhooks/x/``: X's Account Activity deliveries (CRC check and signed events).

- GET ``?crc_token=``: X checks we own the URL; we answer ``{"response_token": "sha256=" +
  base64(HMAC-SHA256(consumer secret, crc_token))}`` at once (X wants it within 3 seconds).
- POST: the body holds ``for_user_id`` (the subscribed account) and its events. The
  ``x-twitter-webhooks-signature`` header is the same HMAC over the raw body; we check it in
  constant time against the consumer secret of the channel(s) of that account. A missing or
  wrong signature is refused (403) before anything is stored.

Verified events are normalised by the same functions as polls and ingested in Celery, so a
delivery replayed by X, or the next poll of the same tweet, stores nothing twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .. import webhook_guard
from ..base import InboundItem, item_to_dict
from . import normalize

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def signature(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def _x_channels():
    from channels.models import Channel

    return [c for c in Channel.objects.filter(kind="x", enabled=True) if c.credentials]


def handle(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _crc(request)
    if request.method == "POST":
        return _events(request)
    return HttpResponse(status=405, headers={"Allow": "GET, POST"})


def _crc(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("crc_token", "")
    if not token:
        return HttpResponse("crc_token missing", status=400, content_type="text/plain")
    # One X app signs for all its accounts; with channels of several apps, the URL registered
    # for each app names its consumer key: /webhooks/x/?app=<consumer key>.
    app = request.GET.get("app", "")
    secrets = {
        c.credentials.get("consumer_secret")
        for c in _x_channels()
        if c.credentials.get("consumer_secret")
        and (not app or c.credentials.get("consumer_key") == app)
    }
    if len(secrets) != 1:
        log.warning("X CRC check: %d consumer secrets match; cannot answer", len(secrets))
        return HttpResponse("no single X app configured", status=404, content_type="text/plain")
    return JsonResponse({"response_token": signature(secrets.pop(), token.encode())})


def _events(request: HttpRequest) -> HttpResponse:
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given:
        return HttpResponse("signature missing", status=403, content_type="text/plain")
    raw = request.body
    try:
        payload = json.loads(raw)
        for_user_id = str(payload["for_user_id"])
    except (ValueError, KeyError, TypeError):
        return HttpResponse("malformed body", status=400, content_type="text/plain")
    matching = [
        c
        for c in _x_channels()
        if c.own_account_id == for_user_id
        and c.credentials.get("consumer_secret")
        and hmac.compare_digest(
            signature(c.credentials["consumer_secret"], raw).encode(), given.encode()
        )
    ]
    if not matching:
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    if webhook_guard.already_processed("x", raw):
        return JsonResponse({"ok": True, "replay": True})

    from channels.tasks import ingest_items

    for channel in matching:
        items = webhook_items(payload, own_id=for_user_id, known=_known_threads(channel, payload))
        if items:
            ingest_items.delay(channel.pk, [item_to_dict(i) for i in items])
    webhook_guard.mark_processed("x", raw)
    return JsonResponse({"ok": True})


def _known_threads(channel, payload: dict[str, Any]) -> dict[str, str]:
    """Conversation ids of the tweets these events answer, where we stored them already.

    v1.1 tweets carry no conversation id; the tweet a reply answers does (in its thread key)."""
    from inbox.models import Message

    parents = {
        str(t.get("in_reply_to_status_id_str"))
        for t in payload.get("tweet_create_events") or []
        if isinstance(t, dict) and t.get("in_reply_to_status_id_str")
    }
    if not parents:
        return {}
    known = {}
    rows = Message.objects.filter(channel=channel, external_id__in=parents).values_list(
        "external_id", "ticket__thread_key"
    )
    for external_id, thread_key in rows:
        if thread_key.startswith("conv:"):
            known[external_id] = thread_key[len("conv:") :]
    return known


def delivery_account(payload: Any) -> str:
    """The subscribed account a delivery is for, in either shape: Account Activity's
    ``for_user_id``, or the X Activity API's ``data.filter.user_id``. "" when neither is there.

    Pure; the request handling uses it to pick the channel whose secret checks the signature."""
    if not isinstance(payload, dict):
        return ""
    if payload.get("for_user_id"):
        return str(payload["for_user_id"])
    accounts = {
        str((event.get("filter") or {}).get("user_id") or "")
        for event in _xaa_events(payload)
        if isinstance(event.get("filter"), dict)
    }
    accounts.discard("")
    return accounts.pop() if len(accounts) == 1 else ""


def is_xaa(payload: Any) -> bool:
    """An X Activity API delivery: ``{"data": {"event_type", "filter", "payload", ...}}``."""
    return bool(_xaa_events(payload))


def _xaa_events(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict) or "for_user_id" in payload:
        return []
    data = payload.get("data")
    events = data if isinstance(data, list) else [data]
    return [e for e in events if isinstance(e, dict) and isinstance(e.get("event_type"), str)]


# X Activity API event types that carry a customer's message (or our own, echoed).
XAA_POST_EVENTS = {"post.create": "webhook", "post.mention.create": "mentions"}
XAA_DM_EVENTS = {"dm.sent": True, "dm.received": False}


def xaa_items(payload: dict[str, Any], *, own_id: str) -> list[InboundItem]:
    """X Activity API events → items, through the poll normaliser. Pure.

    ``post.create`` (a post by the account) and ``post.mention.create`` (a post mentioning it)
    carry a v2 Post as ``payload`` with ``includes.users``; ``dm.sent`` / ``dm.received`` carry
    Account Activity's ``direct_message_events`` with a ``users`` map of v2 users, each wrapped
    as ``{"data": {...}}``. Other event types (likes, follows, typing, read receipts) are not
    messages and are skipped. One bad event never loses the others."""
    items: list[InboundItem] = []
    for event in _xaa_events(payload):
        kind = event.get("event_type")
        body = event.get("payload")
        if not isinstance(body, dict):
            continue
        try:
            if kind in XAA_POST_EVENTS:
                users = normalize.users_by_id(event)
                item = normalize.tweet_to_item(
                    body, users, own_id=own_id, source=XAA_POST_EVENTS[kind]
                )
                if item is not None:
                    items.append(item)
            elif kind in XAA_DM_EVENTS:
                users = {}
                raw_users = body.get("users")
                for raw in raw_users.values() if isinstance(raw_users, dict) else []:
                    user = normalize.unwrap_user(raw)
                    if user is not None:
                        users[str(user["id"])] = user
                for dm in body.get("direct_message_events") or []:
                    if not isinstance(dm, dict):
                        continue
                    v2 = normalize.v1_dm_to_v2(dm)
                    if v2 is None:
                        continue
                    item = normalize.dm_event_to_item(
                        v2, users, own_id=own_id, from_us=XAA_DM_EVENTS[kind]
                    )
                    if item is not None:
                        items.append(item)
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("X Activity event %s skipped, malformed: %r", event.get("event_uuid"), exc)
    return items


def webhook_items(
    payload: dict[str, Any], *, own_id: str, known: dict[str, str] | None = None
) -> list[InboundItem]:
    """A delivery's events → items, through the poll normaliser. Pure.

    Either shape: the X Activity API's envelope (:func:`xaa_items`) or Account Activity v1.1
    (``tweet_create_events``, ``direct_message_events``)."""
    if is_xaa(payload):
        return xaa_items(payload, own_id=own_id)
    known = known or {}
    items: list[InboundItem] = []
    for tweet in payload.get("tweet_create_events") or []:
        if not isinstance(tweet, dict):
            continue
        try:
            parent = str(tweet.get("in_reply_to_status_id_str") or "")
            v2 = normalize.v1_tweet_to_v2(tweet, conversation_id=known.get(parent, ""))
            user = normalize.v1_user_to_v2(tweet.get("user") or {})
            users = {user["id"]: user} if user["id"] else {}
            item = normalize.tweet_to_item(v2, users, own_id=own_id, source="webhook")
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("X webhook tweet %s skipped, malformed: %r", tweet.get("id_str"), exc)
            continue
        if item is not None:
            items.append(item)
    raw_users = payload.get("users")
    users = {
        str(uid): normalize.v1_user_to_v2(u)
        for uid, u in (raw_users.items() if isinstance(raw_users, dict) else [])
        if isinstance(u, dict)
    }
    for event in payload.get("direct_message_events") or []:
        if not isinstance(event, dict):
            continue
        try:
            v2 = normalize.v1_dm_to_v2(event)
            item = normalize.dm_event_to_item(v2, users, own_id=own_id) if v2 else None
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("X webhook DM %s skipped, malformed: %r", event.get("id"), exc)
            continue
        if item is not None:
            items.append(item)
    return items
