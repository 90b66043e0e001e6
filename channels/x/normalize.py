"""X API JSON → InboundItem. Pure functions: no ORM, no network, no clock.

Polls (API v2 pages) and webhooks (Account Activity v1.1 objects, adapted to v2 shape first by
``channels.x.activity_v1``) go through the same functions here, so a tweet
delivered both ways becomes the same item: same ``external_id`` (the tweet or DM event id), same
``thread_key``. The database then keeps one message.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from typing import Any

from channels.payload import child, child_int, child_list, child_text

from ..base import InboundAttachment, InboundAuthor, InboundItem

log = logging.getLogger(__name__)

TWEET_FIELDS = [
    "author_id",
    # A default field, asked for all the same: each edit of a post has its own id, and this
    # chain (original first, latest last) is how its versions become one message.
    "edit_history_tweet_ids",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "referenced_tweets",
    "lang",
    "public_metrics",
    "entities",
    # ``attachments.media_keys``: the photos, videos and GIFs of a post, expanded below.
    "attachments",
]
USER_FIELDS = ["username", "name", "profile_image_url", "public_metrics", "verified"]
TWEET_EXPANSIONS = [
    "author_id",
    "referenced_tweets.id",
    "in_reply_to_user_id",
    "attachments.media_keys",
]
# The media object's fields (X data dictionary, "Media object"): ``url`` is set for photos
# only; a video or GIF has ``preview_image_url`` and ``variants`` (mp4s by ``bit_rate``).
MEDIA_FIELDS = ["url", "preview_image_url", "alt_text", "type", "width", "height", "variants"]
DM_EVENT_FIELDS = [
    "created_at",
    "sender_id",
    "dm_conversation_id",
    "participant_ids",
    "attachments",
    "referenced_tweets",
]
DM_EXPANSIONS = ["sender_id", "attachments.media_keys"]


def parse_time(value: str | None) -> dt.datetime | None:
    """X v2 timestamps look like ``2026-11-20T09:15:02.000Z``."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # the id's own time is used instead (snowflake_time)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def unwrap_user(user: Any) -> dict[str, Any] | None:
    """A v2 user object; the X Activity API sometimes wraps it as ``{"data": {...}}``."""
    if not isinstance(user, dict):
        return None
    if "id" not in user and isinstance(user.get("data"), dict):
        user = user["data"]
    return user if "id" in user else None


def users_by_id(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``includes.users`` by id; absent when the expansion was not asked for or not granted."""
    includes = payload.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    found = {}
    for raw in users if isinstance(users, list) else []:
        user = unwrap_user(raw)
        if user is not None:
            found[str(user["id"])] = user
    return found


def author_from_user(user_id: str, user: dict[str, Any] | None) -> InboundAuthor:
    """The author as X describes them; a deleted or suspended author (missing from
    ``includes.users``) keeps their id, so their messages still group under one identity."""
    if not user:
        return InboundAuthor(platform_user_id=user_id)
    username = user.get("username") or ""
    followers = (user.get("public_metrics") or {}).get("followers_count")
    return InboundAuthor(
        platform_user_id=user_id,
        handle=username,
        display_name=user.get("name") or "",
        avatar_url=user.get("profile_image_url") or "",
        followers=followers if isinstance(followers, int) else None,
        verified=bool(user.get("verified")),
        profile_url=f"https://x.com/{username}" if username else "",
    )


# X's media key prefixes (``<prefix>_<media id>``): how a v1.1 media entity, which has only its
# numeric id, gets the same key as the v2 media object, so one attachment is stored once.
MEDIA_KEY_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}


def media_by_key(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``includes.media`` by ``media_key``; absent when the expansion was not asked for."""
    includes = payload.get("includes")
    media = includes.get("media") if isinstance(includes, dict) else None
    return {
        str(m["media_key"]): m
        for m in (media if isinstance(media, list) else [])
        if isinstance(m, dict) and m.get("media_key")
    }


def best_mp4(variants: Any) -> dict[str, Any] | None:
    """The mp4 variant with the highest bit rate (X also lists an HLS playlist, which is not a
    file to store)."""
    mp4s = [
        v
        for v in (variants if isinstance(variants, list) else [])
        if isinstance(v, dict) and v.get("content_type") == "video/mp4" and v.get("url")
    ]
    if not mp4s:
        return None
    return max(mp4s, key=lambda v: child_int(v, "bit_rate", -1))


def media_attachment(media: dict[str, Any]) -> InboundAttachment | None:
    """One v2 media object → attachment: a photo by its ``url``; a video or animated GIF by its
    best mp4 variant, with ``preview_image_url`` as the still."""
    kind = media.get("type")
    key = str(media.get("media_key") or "")
    size = {k: media[k] for k in ("width", "height") if isinstance(media.get(k), int)}
    alt = child_text(media, "alt_text")
    preview = child_text(media, "preview_image_url")
    if kind == "photo":
        url = child_text(media, "url")
        return InboundAttachment(kind="image", url=url, alt_text=alt, external_id=key, detail=size)
    if kind in ("video", "animated_gif"):
        variant = best_mp4(media.get("variants"))
        detail = dict(size)
        if isinstance(media.get("duration_ms"), int):
            detail["duration_ms"] = media["duration_ms"]
        return InboundAttachment(
            kind="video" if kind == "video" else "gif",
            url=str(variant["url"]) if variant else "",
            mime_type="video/mp4" if variant else "",
            alt_text=alt,
            preview_url=preview,
            external_id=key,
            detail=detail,
        )
    return None


def attachments_of(
    obj: dict[str, Any], media: dict[str, dict[str, Any]]
) -> tuple[InboundAttachment, ...]:
    """The attachments a post or DM event names in ``attachments.media_keys``, in that order.
    A key missing from ``includes.media`` (media deleted, expansion refused) is skipped."""
    block = obj.get("attachments")
    keys = block.get("media_keys") if isinstance(block, dict) else None
    found = []
    for key in keys if isinstance(keys, list) else []:
        item = media.get(str(key))
        attachment = media_attachment(item) if item else None
        if attachment is not None:
            found.append(attachment)
    return tuple(found)


def without_media_links(text: str, obj: dict[str, Any]) -> str:
    """The text without the t.co link X appends for attached media (an ``entities.urls``
    entry carrying a ``media_key``; for a DM with media, its trailing t.co link): the
    attachment shows the media, and the link is not what the person wrote."""
    entities = child(obj, "entities")
    urls = child_list(entities, "urls")
    links = [
        str(u["url"]) for u in urls if isinstance(u, dict) and u.get("media_key") and u.get("url")
    ]
    if not links and "media_keys" in (obj.get("attachments") or {}) and "event_type" in obj:
        links = re.findall(r"https://t\.co/\w+\s*$", text)
    if not links:
        return text
    for link in links:
        text = text.replace(link.strip(), "")
    return text.strip()


def edit_chain(tweet: dict[str, Any]) -> list[str]:
    """The ids of every version of this post, original first (``edit_history_tweet_ids``);
    just its own id when X did not send the chain."""
    ids = tweet.get("edit_history_tweet_ids")
    chain = [str(i) for i in ids if str(i).isdigit()] if isinstance(ids, list) else []
    tweet_id = str(tweet.get("id") or "")
    if tweet_id and tweet_id not in chain:
        # A chain that does not name the post itself is not its history (X always lists the
        # post's own id): the post stands alone rather than join another post's message.
        return [tweet_id]
    return chain or ([tweet_id] if tweet_id else [])


def _references(tweet: dict[str, Any]) -> dict[str, str]:
    return {
        ref.get("type", ""): str(ref.get("id", ""))
        for ref in tweet.get("referenced_tweets") or []
        if isinstance(ref, dict)
    }


def is_retweet(tweet: dict[str, Any]) -> bool:
    return "retweeted" in _references(tweet)


def mentions_account(tweet: dict[str, Any], own_id: str, own_handle: str = "") -> bool:
    """Addressed to us: a reply to our account, or our id or handle among its mentions."""
    if own_id and str(tweet.get("in_reply_to_user_id") or "") == own_id:
        return True
    for mention in (tweet.get("entities") or {}).get("mentions") or []:
        if own_id and str(mention.get("id") or "") == own_id:
            return True
        if own_handle and (mention.get("username") or "").lower() == own_handle.lower():
            return True
    return False


def tweet_to_item(
    tweet: dict[str, Any],
    users: dict[str, dict[str, Any]],
    *,
    own_id: str,
    own_handle: str = "",
    source: str,
    media: dict[str, dict[str, Any]] | None = None,
) -> InboundItem | None:
    """One v2 tweet → item, or None for what we do not ingest (retweets, malformed tweets).

    ``media`` is ``includes.media`` by key (:func:`media_by_key`): the post's photos, videos
    and GIFs become its attachments, and the t.co links X adds for them leave the text.

    ``source`` is where it came from: "mentions", "search" or "webhook". A tweet that is not
    addressed to us and came from a keyword search is "listening": agents choose to step in.
    """
    tweet_id = str(tweet.get("id") or "")
    if not tweet_id or is_retweet(tweet):
        return None
    text = tweet.get("text")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"post {tweet_id}: text is not a string")
    # An edited post is stored once, under its original id; this version's id orders it
    # among the others (ids grow with time), so versions may arrive in any order.
    original = edit_chain(tweet)[0]
    edited = original != tweet_id
    author_id = str(tweet.get("author_id") or "")
    is_ours = bool(own_id) and author_id == own_id
    refs = _references(tweet)
    parent = refs.get("replied_to", "")
    # Without the conversation_id field, a reply is threaded under the post it answers and a
    # new post under its original id (a root post's conversation id is its own id).
    conversation = str(tweet.get("conversation_id") or parent or original)
    addressed = source == "mentions" or mentions_account(tweet, own_id, own_handle)
    if not addressed and source == "search":
        kind = "listening"
    elif parent:
        kind = "reply"
    else:
        kind = "mention"
    version_at = parse_time(tweet.get("created_at"))
    if version_at is None:
        # Asked for with tweet.fields; a tweet without it still must not be lost. Snowflake ids
        # carry their creation time (ms since X's epoch in the high bits).
        version_at = snowflake_time(tweet_id)
    # The message's time is the original's, whichever version told us of it.
    sent_at = snowflake_time(original) if edited else version_at
    author = None
    if author_id and not is_ours:
        author = author_from_user(author_id, users.get(author_id))
    user = users.get(author_id) or {}
    handle = user.get("username") or ""
    return InboundItem(
        external_id=original,
        thread_key=f"conv:{conversation}",
        kind=kind,
        # v2 returns text HTML-escaped (&amp; &lt; &gt;); we store what the person wrote and
        # never render it as HTML.
        text=html.unescape(without_media_links(text or "", tweet)),
        sent_at=sent_at,
        author=author,
        is_ours=is_ours,
        attachments=attachments_of(tweet, media or {}),
        url=f"https://x.com/{handle or 'i/web'}/status/{tweet_id}",
        parent_external_id=parent,
        language=(tweet.get("lang") or "")[:8] if tweet.get("lang") not in ("und", "zxx") else "",
        raw=tweet,
        edited=edited,
        version=tweet_id,
        version_at=version_at,
    )


def tweets_page_to_items(
    payload: dict[str, Any], *, own_id: str, own_handle: str = "", source: str
) -> list[InboundItem]:
    users = users_by_id(payload)
    media = media_by_key(payload)
    items = []
    for tweet in payload.get("data") or []:
        if not isinstance(tweet, dict):
            continue
        try:
            item = tweet_to_item(
                tweet, users, own_id=own_id, own_handle=own_handle, source=source, media=media
            )
        except (AttributeError, TypeError, ValueError) as exc:
            # One malformed post is logged and skipped; the rest of the page is stored.
            log.warning("X post %r skipped, malformed: %r", tweet.get("id"), exc)
            continue
        if item is not None:
            items.append(item)
    return items


def dm_conversation_id(a: str, b: str) -> str:
    """A one-to-one DM conversation id: both user ids joined by "-", the lower first."""
    low, high = sorted((a, b), key=lambda v: (len(v), v))  # numeric order of decimal ids
    return f"{low}-{high}"


def dm_event_to_item(
    event: dict[str, Any],
    users: dict[str, dict[str, Any]],
    *,
    own_id: str,
    from_us: bool | None = None,
    media: dict[str, dict[str, Any]] | None = None,
) -> InboundItem | None:
    """One DM event → item (its ``attachments.media_keys`` through ``media``, as for posts).
    ``from_us``: the delivery itself says who sent it (the X Activity
    API's ``dm.sent`` / ``dm.received``), which counts when ``sender_id`` is absent.

    An event without ``sender_id`` (not asked for in ``dm_event.fields``) is nobody's in
    particular: a customer's unless told otherwise. One we sent is stored already under its
    event id (the send returns it), so ingest drops it as a duplicate, never as a new ticket.
    """
    if event.get("event_type", "MessageCreate") != "MessageCreate":
        return None  # ParticipantsJoin / ParticipantsLeave carry no message
    event_id = str(event.get("id") or "")
    sender = str(event.get("sender_id") or "")
    if not event_id:
        return None
    if not sender and from_us and own_id:
        sender = own_id
    conversation = str(event.get("dm_conversation_id") or "")
    if not conversation:
        participants = [str(p) for p in event.get("participant_ids") or []]
        if len(participants) == 2:
            conversation = dm_conversation_id(*participants)
        elif sender and own_id:
            conversation = dm_conversation_id(sender, own_id)
        else:
            conversation = event_id
    is_ours = (bool(own_id) and sender == own_id) or bool(from_us)
    attachments = attachments_of(event, media or {})
    text = event["text"] if isinstance(event.get("text"), str) else ""
    if attachments:
        text = without_media_links(text, event)
    return InboundItem(
        external_id=event_id,
        thread_key=f"dm:{conversation}",
        kind="dm",
        text=text,
        attachments=attachments,
        sent_at=parse_time(event.get("created_at")) or snowflake_time(event_id),
        author=None if is_ours or not sender else author_from_user(sender, users.get(sender)),
        is_ours=is_ours,
        raw=event,
    )


def dm_page_to_items(payload: dict[str, Any], *, own_id: str) -> list[InboundItem]:
    users = users_by_id(payload)
    media = media_by_key(payload)
    items = []
    for event in payload.get("data") or []:
        if not isinstance(event, dict):
            continue
        try:
            item = dm_event_to_item(event, users, own_id=own_id, media=media)
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("X DM event %r skipped, malformed: %r", event.get("id"), exc)
            continue
        if item is not None:
            items.append(item)
    return items


_X_EPOCH_MS = 1288834974657


def snowflake_time(snowflake: str) -> dt.datetime:
    try:
        ms = (int(snowflake) >> 22) + _X_EPOCH_MS
    except ValueError:
        ms = _X_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
