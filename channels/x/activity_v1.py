"""Account Activity (v1.1) objects → the API v2 shape, so that webhook tweets and DMs go
through the same normaliser as polled ones (``channels.x.normalize``). Pure functions."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any

from channels.payload import child_text

from .normalize import MEDIA_KEY_PREFIX, dm_conversation_id

log = logging.getLogger(__name__)


def _dict(value: Any) -> dict[str, Any]:
    """A payload's object, or {} where it holds something else or nothing."""
    return value if isinstance(value, dict) else {}


def _v1_time(value: str | None) -> str | None:
    """v1.1 ``created_at`` is ``Wed Oct 10 20:19:24 +0000 2018``."""
    if not value:
        return None
    try:
        parsed = dt.datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def v1_user_to_v2(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(user.get("id_str") or user.get("id") or ""),
        "username": user.get("screen_name") or "",
        "name": user.get("name") or "",
        "profile_image_url": user.get("profile_image_url_https") or "",
        "verified": bool(user.get("verified")),
        "public_metrics": {"followers_count": user.get("followers_count")},
    }


def v1_tweet_to_v2(tweet: dict[str, Any], *, conversation_id: str = "") -> dict[str, Any]:
    """A v1.1 tweet object (webhook ``tweet_create_events``) in v2 shape.

    v1.1 has no ``conversation_id``: the caller passes the conversation of the tweet it answers
    when we know it; otherwise a reply is threaded under the tweet it answers and a new tweet
    under itself (a root tweet's conversation id is its own id).
    """
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    extended = tweet.get("extended_tweet") or {}
    text = extended.get("full_text") or tweet.get("full_text") or tweet.get("text") or ""
    parent = str(tweet.get("in_reply_to_status_id_str") or "")
    refs = []
    if parent:
        refs.append({"type": "replied_to", "id": parent})
    if tweet.get("quoted_status_id_str"):
        refs.append({"type": "quoted", "id": str(tweet["quoted_status_id_str"])})
    if tweet.get("retweeted_status"):
        retweeted = tweet["retweeted_status"]
        refs.append({"type": "retweeted", "id": str(retweeted.get("id_str") or "")})
    user = tweet.get("user") or {}
    entities = extended.get("entities") or tweet.get("entities") or {}
    mentions = [
        {"id": str(m.get("id_str") or ""), "username": m.get("screen_name") or ""}
        for m in entities.get("user_mentions") or []
    ]
    chain = v1_edit_chain(tweet)
    entities_media = v1_media_entities(tweet)
    media_keys = [key for key, _, _ in entities_media]
    urls = [{"url": link, "media_key": key} for key, _, link in entities_media if link]
    converted: dict[str, Any] = {
        "id": tweet_id,
        "edit_history_tweet_ids": chain,
        "text": text,
        "author_id": str(user.get("id_str") or user.get("id") or ""),
        "conversation_id": conversation_id or parent or (chain[0] if chain else tweet_id),
        "created_at": _v1_time(tweet.get("created_at")),
        "in_reply_to_user_id": str(tweet.get("in_reply_to_user_id_str") or "") or None,
        "lang": tweet.get("lang") or "",
        "entities": {"mentions": mentions, "urls": urls},
    }
    if media_keys:
        converted["attachments"] = {"media_keys": media_keys}
    if refs:
        converted["referenced_tweets"] = refs
    return {k: v for k, v in converted.items() if v is not None}


def v1_media_to_v2(entity: dict[str, Any]) -> dict[str, Any] | None:
    """A v1.1 media entity (``extended_entities.media[]``, a DM's ``attachment.media``) as a v2
    media object: ``media_url_https`` is the photo (or a video's still), ``ext_alt_text`` the
    alt text, ``video_info.variants[]`` the files with ``bitrate`` (v2: ``bit_rate``)."""
    kind = entity.get("type")
    media_id = str(entity.get("id_str") or entity.get("id") or "")
    if kind not in MEDIA_KEY_PREFIX or not media_id:
        return None
    key = str(entity.get("media_key") or f"{MEDIA_KEY_PREFIX[kind]}_{media_id}")
    converted: dict[str, Any] = {"media_key": key, "type": kind}
    still = entity.get("media_url_https") or entity.get("media_url") or ""
    if kind == "photo":
        converted["url"] = still
    else:
        converted["preview_image_url"] = still
        info = _dict(entity.get("video_info"))
        converted["variants"] = [
            {
                "bit_rate": v.get("bitrate"),
                "content_type": v.get("content_type"),
                "url": v.get("url"),
            }
            for v in info.get("variants") or []
            if isinstance(v, dict)
        ]
        if isinstance(info.get("duration_millis"), int):
            converted["duration_ms"] = info["duration_millis"]
    if isinstance(entity.get("ext_alt_text"), str):
        converted["alt_text"] = entity["ext_alt_text"]
    large = (
        (entity.get("sizes") or {}).get("large") if isinstance(entity.get("sizes"), dict) else None
    )
    if isinstance(large, dict):
        converted["width"] = large.get("w") if isinstance(large.get("w"), int) else None
        converted["height"] = large.get("h") if isinstance(large.get("h"), int) else None
    return {k: v for k, v in converted.items() if v is not None}


def v1_media_entities(tweet: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(media key, v2 media object, t.co link in the text) of a v1.1 tweet's media:
    ``extended_entities.media`` (all photos, the video or GIF), in ``extended_tweet`` for a
    long tweet; ``entities.media`` (the first photo only) when nothing else is there."""
    extended = _dict(tweet.get("extended_tweet"))
    found = []
    for holder in (extended, tweet):
        for name in ("extended_entities", "entities"):
            block = _dict(holder.get(name))
            media = block.get("media")
            if isinstance(media, list) and media:
                found = media
                break
        if found:
            break
    result = []
    for entity in found:
        if not isinstance(entity, dict):
            continue
        converted = v1_media_to_v2(entity)
        if converted is not None:
            link = entity.get("url")
            result.append(
                (converted["media_key"], converted, link if isinstance(link, str) else "")
            )
    return result


def v1_tweet_media(tweet: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A v1.1 tweet's media by key, as :func:`media_by_key` gives them for v2 pages."""
    return {key: media for key, media, _ in v1_media_entities(tweet)}


def v1_dm_media(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A v1.1 DM event's one media attachment (``message_data.attachment.media``) by key."""
    create = _dict(event.get("message_create"))
    data = _dict(create.get("message_data"))
    attachment = _dict(data.get("attachment"))
    entity = attachment.get("media") if attachment.get("type") == "media" else None
    converted = v1_media_to_v2(entity) if isinstance(entity, dict) else None
    return {converted["media_key"]: converted} if converted else {}


def v1_edit_chain(tweet: dict[str, Any]) -> list[str]:
    """A v1.1 tweet's edit chain, original first, in v2's ``edit_history_tweet_ids`` form.

    Account Activity (enterprise) tweets carry ``edit_history: {initial_tweet_id,
    edit_tweet_ids}``; standard v1.1 objects ``ext_edit_control``: ``initial.edit_tweet_ids`` on
    the original, ``edit.initial_tweet_id`` (and ``edit.edit_control_initial.edit_tweet_ids``)
    on an edit. See docs/channels/x.md."""
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    history = _dict(tweet.get("edit_history"))
    control = tweet.get("ext_edit_control")
    control = control if isinstance(control, dict) else {}
    edit = _dict(control.get("edit"))
    initial = _dict(control.get("initial"))
    from_edit = edit.get("edit_control_initial") or {}
    chain = (
        history.get("edit_tweet_ids")
        or initial.get("edit_tweet_ids")
        or (from_edit.get("edit_tweet_ids") if isinstance(from_edit, dict) else None)
        or []
    )
    chain = [str(i) for i in chain if str(i).isdigit()] if isinstance(chain, list) else []
    first = str(history.get("initial_tweet_id") or edit.get("initial_tweet_id") or "")
    if first and (not chain or chain[0] != first):
        chain = [first, *[i for i in chain if i != first]]
    if tweet_id and tweet_id not in chain:
        chain.append(tweet_id)
    return chain


def v1_dm_to_v2(event: dict[str, Any]) -> dict[str, Any] | None:
    """A webhook ``direct_message_events`` entry in v2 ``dm_events`` shape."""
    if event.get("type") != "message_create":
        return None
    create = event.get("message_create") or {}
    sender = str(create.get("sender_id") or "")
    recipient = str((create.get("target") or {}).get("recipient_id") or "")
    created = None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        created = dt.datetime.fromtimestamp(int(event["created_timestamp"]) / 1000, tz=dt.UTC)
    data = _dict(create.get("message_data"))
    text = data.get("text") or ""
    media = v1_dm_media(event)
    extra: dict[str, Any] = {}
    if media:
        extra["attachments"] = {"media_keys": list(media)}
        entity = (data.get("attachment") or {}).get("media") or {}
        link = child_text(entity, "url")
        if link:
            extra["entities"] = {"urls": [{"url": link, "media_key": next(iter(media))}]}
    return {
        **extra,
        "id": str(event.get("id") or ""),
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender,
        "participant_ids": [p for p in (sender, recipient) if p],
        "dm_conversation_id": dm_conversation_id(sender, recipient) if sender and recipient else "",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z") if created else None,
    }
