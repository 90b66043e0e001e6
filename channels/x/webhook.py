"""``/webhooks/x/``: X's Account Activity deliveries (CRC check and signed events).

- GET ``?crc_token=``: X checks we own the URL; we answer ``{"response_token": "sha256=" +
  base64(HMAC-SHA256(consumer secret, crc_token))}`` at once (X wants it within 3 seconds).
  That HMAC is the very one that authenticates deliveries, so the CRC answer would sign any
  body an attacker sends as ``crc_token``: only tokens shaped as X sends them are answered
  (:data:`CRC_TOKEN`, see docs/channels/x.md) — never one that could be a JSON body.
- POST: the ``x-twitter-webhooks-signature`` header is the same HMAC over the raw body. It is
  checked in constant time against every configured consumer secret *before* the body is
  parsed; only then is ``for_user_id`` (the subscribed account) read from it, and the channels
  of that account whose secret signed it are the delivery's channels. A missing or wrong
  signature is refused (403) before anything is stored.

The generic intake (``channels.intake``) stores each verified body before answering and ingests
it in a task, through the same normalisers as polls, so a delivery replayed by X, or the next
poll of the same tweet, stores nothing twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from ..base import InboundItem
from ..intake import Refused, WebhookIntake
from . import activity_v1, normalize

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"

# X documents no format for ``crc_token``, only that it changes per request; its sample token is
# a UUID and tokens seen in the wild are UUIDs or base64. This admits those (16–128 characters
# of the base64/base64url alphabet and "-") and nothing a JSON body could be made of: no braces,
# brackets, quotes, colons, commas or whitespace. Sources in docs/channels/x.md.
CRC_TOKEN = re.compile(r"\A[A-Za-z0-9+/=_-]{16,128}\Z")


def signature(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def _x_channels():
    from channels.models import Channel

    return [c for c in Channel.objects.filter(kind="x", enabled=True) if c.credentials]


class XIntake(WebhookIntake):
    name = "x"

    def handshake(self, request: HttpRequest) -> HttpResponse:
        return _crc(request)

    def verify(self, request: HttpRequest, body: bytes) -> list:
        """The X channels whose consumer secret signed these exact bytes (none: refused)."""
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given:
            raise Refused(403, "signature missing")
        matched = []
        by_secret: dict[str, bool] = {}
        for channel in _x_channels():
            secret = channel.credentials.get("consumer_secret")
            if not secret:
                continue
            if secret not in by_secret:
                by_secret[secret] = hmac.compare_digest(
                    signature(secret, body).encode(), given.encode()
                )
            if by_secret[secret]:
                matched.append(channel)
        return matched

    def route(self, payload: dict[str, Any], verified: list) -> list[int]:
        for_user_id = _for_user_id(payload)
        channels = [c.pk for c in verified if c.own_account_id == for_user_id]
        if not channels:
            # Signed by one of our apps, but for an account no channel serves.
            raise Refused(403, "not for an account we serve")
        return channels

    def items(self, payload: dict[str, Any], *, channel_ids: list[int]) -> dict[int, list]:
        from channels.models import Channel

        for_user_id = _for_user_id(payload)
        return {
            channel.pk: webhook_items(
                payload, own_id=for_user_id, known=_known_threads(channel, payload)
            )
            for channel in Channel.objects.filter(pk__in=channel_ids)
        }

    def acknowledge(self, *, replay: bool) -> HttpResponse:
        return JsonResponse({"ok": True, "replay": True} if replay else {"ok": True})


def _for_user_id(payload: dict[str, Any]) -> str:
    """The subscribed account: Account Activity's ``for_user_id``, or the X Activity API's
    ``data.filter.user_id`` (:func:`delivery_account`) when the body is in that shape."""
    value = payload.get("for_user_id")
    if value is None and is_xaa(payload):
        value = delivery_account(payload) or None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
        raise Refused(400, "malformed body: no for_user_id")
    return str(value)


def _crc(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("crc_token", "")
    if not token:
        return HttpResponse("crc_token missing", status=400, content_type="text/plain")
    if not CRC_TOKEN.match(token):
        # Never sign what X would not send: a token that is not shaped like X's could be a
        # delivery body, and its signature would be a valid delivery signature.
        log.warning("X CRC check refused: crc_token not shaped as X sends it")
        return HttpResponse("crc_token not accepted", status=400, content_type="text/plain")
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


def _known_threads(channel, payload: dict[str, Any]) -> dict[str, str]:
    """Conversation ids of the tweets these events answer, where we stored them already.

    v1.1 tweets carry no conversation id; the tweet a reply answers does (in its thread key)."""
    from inbox.ingest.entry import thread_keys_of

    parents = {
        str(t.get("in_reply_to_status_id_str"))
        for t in payload.get("tweet_create_events") or []
        if isinstance(t, dict) and t.get("in_reply_to_status_id_str")
    }
    if not parents:
        return {}
    known = {}
    for external_id, thread_key in thread_keys_of(
        channel_id=channel.pk, external_ids=parents
    ).items():
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
                    body,
                    users,
                    own_id=own_id,
                    source=XAA_POST_EVENTS[kind],
                    media=normalize.media_by_key(event),
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
                    v2 = activity_v1.v1_dm_to_v2(dm)
                    if v2 is None:
                        continue
                    item = normalize.dm_event_to_item(
                        v2,
                        users,
                        own_id=own_id,
                        from_us=XAA_DM_EVENTS[kind],
                        media=activity_v1.v1_dm_media(dm),
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
            v2 = activity_v1.v1_tweet_to_v2(tweet, conversation_id=known.get(parent, ""))
            user = activity_v1.v1_user_to_v2(tweet.get("user") or {})
            users = {user["id"]: user} if user["id"] else {}
            item = normalize.tweet_to_item(
                v2, users, own_id=own_id, source="webhook", media=activity_v1.v1_tweet_media(tweet)
            )
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("X webhook tweet %s skipped, malformed: %r", tweet.get("id_str"), exc)
            continue
        if item is not None:
            items.append(item)
    raw_users = payload.get("users")
    users = {
        str(uid): activity_v1.v1_user_to_v2(u)
        for uid, u in (raw_users.items() if isinstance(raw_users, dict) else [])
        if isinstance(u, dict)
    }
    for event in payload.get("direct_message_events") or []:
        if not isinstance(event, dict):
            continue
        try:
            dm_v2 = activity_v1.v1_dm_to_v2(event)
            media = activity_v1.v1_dm_media(event)
            item = (
                normalize.dm_event_to_item(dm_v2, users, own_id=own_id, media=media)
                if dm_v2
                else None
            )
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("X webhook DM %s skipped, malformed: %r", event.get("id"), exc)
            continue
        if item is not None:
            items.append(item)
    return items
