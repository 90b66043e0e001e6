"""Graph objects and webhook events → InboundItem: one normaliser for polls and webhooks.

Pure functions, no network and no ORM, so a comment delivered by webhook and the same comment
found by a poll become the same item: the same ``external_id`` (the Graph id), the same
``thread_key``. The database then stores it once.

Threads (see docs/channels/facebook.md):

- ``comment:<top-level comment id>``: a comment on a Page post and all replies to it. Facebook
  nests comments one level deep: a reply's ``parent`` is the top-level comment, and a top-level
  comment's webhook ``parent_id`` is the post itself.
- ``post:<post id>``: a visitor post on the Page (comments under it thread by the rules above).
- ``dm:<PSID>``: a Messenger conversation, keyed by the customer's page-scoped id, because
  messaging webhooks carry the sender's PSID and no conversation id.
- ``rating:<open graph story id>``: a Page recommendation (Graph v21.0 and older only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ..base import InboundAuthor, InboundItem
from .client import parse_time

POST_ITEMS = {"post", "status", "photo", "video", "share"}


@dataclass(frozen=True, slots=True)
class Moderation:
    """A change to a stored message that is not new text: hidden, unhidden or removed."""

    external_id: str
    hidden: bool | None = None
    removed: bool = False


def comment_thread(comment_id: str, parent_id: str | None, post_id: str | None) -> str:
    top = parent_id if parent_id and parent_id != post_id else comment_id
    return f"comment:{top}"


def dm_thread(psid: str) -> str:
    return f"dm:{psid}"


def _author(person: dict[str, Any] | None) -> InboundAuthor | None:
    if not isinstance(person, dict) or not person.get("id"):
        return None
    return InboundAuthor(
        platform_user_id=str(person["id"]),
        display_name=str(person.get("name") or "")[:200],
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _attachments_text(attachments: Any) -> str:
    """A line per attachment, so a photo-only message is not an empty bubble."""
    if isinstance(attachments, dict):
        # A comment's single ``attachment`` object, or a message's ``{"data": [...]}``.
        attachments = [attachments] if "type" in attachments else attachments.get("data")
    if not isinstance(attachments, list):
        return ""
    parts = []
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        kind = attachment.get("type") or attachment.get("mime_type") or "file"
        parts.append(f"[{kind}]")
    return " ".join(parts)


def comment_item(
    comment: dict[str, Any], *, page_id: str, post_id: str, edited: bool = False
) -> InboundItem | None:
    """A comment from ``GET /{post-id}/comments`` (fields id, from, message, created_time,
    parent{id}, permalink_url)."""
    comment_id = comment.get("id")
    sent_at = parse_time(comment.get("created_time"))
    if not comment_id or sent_at is None:
        return None
    parent = comment.get("parent") if isinstance(comment.get("parent"), dict) else {}
    parent_id = str(parent.get("id") or "")
    author = _author(comment.get("from"))
    is_ours = bool(author and author.platform_user_id == page_id)
    return InboundItem(
        external_id=str(comment_id),
        thread_key=comment_thread(str(comment_id), parent_id, post_id),
        kind="comment",
        text=_text(comment.get("message")) or _attachments_text(comment.get("attachment")),
        sent_at=sent_at,
        author=None if is_ours else author,
        is_ours=is_ours,
        edited=edited,
        url=_text(comment.get("permalink_url")),
        parent_external_id=parent_id or post_id,
        raw={"comment": comment, "post_id": post_id},
    )


def visitor_post_item(post: dict[str, Any], *, page_id: str) -> InboundItem | None:
    """A post on the Page's feed written by someone else; the Page's own posts are not items."""
    author = _author(post.get("from"))
    sent_at = parse_time(post.get("created_time"))
    if not post.get("id") or sent_at is None or author is None:
        return None
    if author.platform_user_id == page_id:
        return None
    return InboundItem(
        external_id=str(post["id"]),
        thread_key=f"post:{post['id']}",
        kind="post",
        text=_text(post.get("message")) or _text(post.get("story")),
        sent_at=sent_at,
        author=author,
        url=_text(post.get("permalink_url")),
        raw={"post": post},
    )


def feed_change(value: dict[str, Any], *, page_id: str) -> InboundItem | Moderation | None:
    """One ``feed`` change from a Page webhook (``entry[].changes[].value``)."""
    if not isinstance(value, dict):
        return None
    item, verb = value.get("item"), value.get("verb")
    if item == "comment":
        comment_id = value.get("comment_id")
        if not comment_id:
            return None
        if verb in ("hide", "unhide"):
            return Moderation(external_id=str(comment_id), hidden=verb == "hide")
        if verb == "remove":
            return Moderation(external_id=str(comment_id), removed=True)
        if verb not in ("add", "edited"):
            return None
        post_id = str(value.get("post_id") or "")
        parent_id = str(value.get("parent_id") or "")
        comment = {
            "id": comment_id,
            "from": value.get("from"),
            "message": value.get("message"),
            "created_time": value.get("created_time"),
            "permalink_url": (value.get("post") or {}).get("permalink_url", "")
            if isinstance(value.get("post"), dict)
            else "",
        }
        if value.get("photo") or value.get("video"):
            comment["attachment"] = {"type": "photo" if value.get("photo") else "video"}
        if parent_id and parent_id != post_id:
            comment["parent"] = {"id": parent_id}
        found = comment_item(comment, page_id=page_id, post_id=post_id, edited=verb == "edited")
        if found is None:
            return None
        # Keep the webhook's own payload for the record, not the reshaped dict.
        return _with_raw(found, {"webhook": value, "post_id": post_id})
    if item in POST_ITEMS:
        post_id = value.get("post_id")
        if not post_id:
            return None
        if verb == "remove":
            return Moderation(external_id=str(post_id), removed=True)
        if verb in ("hide", "unhide"):
            return Moderation(external_id=str(post_id), hidden=verb == "hide")
        if verb not in ("add", "edited"):
            return None
        post = {
            "id": post_id,
            "from": value.get("from"),
            "message": value.get("message"),
            "created_time": value.get("created_time"),
            "permalink_url": value.get("link", "") if item == "share" else "",
        }
        if isinstance(value.get("post"), dict):
            post["permalink_url"] = value["post"].get("permalink_url", "")
        found = visitor_post_item(post, page_id=page_id)
        if found is None:
            return None
        return _with_raw(found, {"webhook": value}, edited=verb == "edited")
    return None


def _with_raw(item: InboundItem, raw: dict[str, Any], *, edited: bool | None = None):
    from dataclasses import replace

    changes: dict[str, Any] = {"raw": raw}
    if edited is not None:
        changes["edited"] = edited
    return replace(item, **changes)


def conversation_psid(conversation: dict[str, Any], *, page_id: str) -> str:
    participants = conversation.get("participants")
    if isinstance(participants, dict):
        for person in participants.get("data") or []:
            if isinstance(person, dict) and person.get("id") and str(person["id"]) != page_id:
                return str(person["id"])
    return ""


def conversation_message_item(
    message: dict[str, Any], *, page_id: str, psid: str, display_name: str = ""
) -> InboundItem | None:
    """A message from ``GET /{conversation-id}/messages`` (id, created_time, from, to, message,
    attachments)."""
    sent_at = parse_time(message.get("created_time"))
    if not message.get("id") or sent_at is None or not psid:
        return None
    author = _author(message.get("from"))
    is_ours = bool(author and author.platform_user_id == page_id)
    if author and not is_ours and not author.display_name and display_name:
        author = InboundAuthor(platform_user_id=author.platform_user_id, display_name=display_name)
    text = _text(message.get("message"))
    extra = _attachments_text(message.get("attachments"))
    return InboundItem(
        external_id=str(message["id"]),
        thread_key=dm_thread(psid),
        kind="dm",
        text=" ".join(p for p in (text, extra) if p),
        sent_at=sent_at,
        author=None if is_ours else author,
        is_ours=is_ours,
        raw={"message": message},
    )


def messaging_event(event: dict[str, Any], *, page_id: str) -> InboundItem | None:
    """One ``entry[].messaging[]`` event. Messages, edits of messages and button taps
    (postbacks) become items; delivery and read receipts and reactions are not customer text.

    An echo (``message.is_echo``) is the Page's own message, sent by us or by someone answering
    in Meta's own inbox: stored as ours, so it stops the customer's wait. Our own sends come back
    with the ``mid`` we already stored, and the database drops them as duplicates.
    """
    if not isinstance(event, dict):
        return None
    edit = event.get("message_edit")
    if isinstance(edit, dict) and edit.get("mid"):
        # The customer edited a message (``message_edits`` field): the new text replaces it.
        sender = str((event.get("sender") or {}).get("id") or "")
        sent_at = parse_time(event.get("timestamp")) or timezone.now()
        if not sender or sender == page_id:
            return None
        return InboundItem(
            external_id=str(edit["mid"]),
            thread_key=dm_thread(sender),
            kind="dm",
            text=_text(edit.get("text")),
            sent_at=sent_at,
            author=InboundAuthor(platform_user_id=sender),
            edited=True,
            raw={"webhook": event},
        )
    message = event.get("message")
    postback = event.get("postback")
    if isinstance(postback, dict) and postback.get("mid") and not isinstance(message, dict):
        # A tap on a button the Page sent: the button's title is what the customer "said".
        message = {"mid": postback["mid"], "text": _text(postback.get("title"))}
    if not isinstance(message, dict) or not message.get("mid"):
        return None
    sender = str((event.get("sender") or {}).get("id") or "")
    recipient = str((event.get("recipient") or {}).get("id") or "")
    is_ours = bool(message.get("is_echo")) or sender == page_id
    psid = recipient if is_ours else sender
    sent_at = parse_time(event.get("timestamp")) or timezone.now()
    if not psid:
        return None
    text = _text(message.get("text"))
    extra = _attachments_text(message.get("attachments"))
    return InboundItem(
        external_id=str(message["mid"]),
        thread_key=dm_thread(psid),
        kind="dm",
        text=" ".join(p for p in (text, extra) if p),
        sent_at=sent_at,
        author=None if is_ours else InboundAuthor(platform_user_id=psid),
        is_ours=is_ours,
        raw={"webhook": event},
    )


def rating_item(rating: dict[str, Any], *, page_id: str) -> InboundItem | None:
    """A Page recommendation from ``GET /{page-id}/ratings`` (gone from Graph v22.0)."""
    story = (
        rating.get("open_graph_story") if isinstance(rating.get("open_graph_story"), dict) else {}
    )
    story_id = str(story.get("id") or "")
    sent_at = parse_time(rating.get("created_time"))
    author = _author(rating.get("reviewer"))
    if not story_id or sent_at is None:
        return None
    stars = rating.get("rating")
    recommendation = _text(rating.get("recommendation_type"))
    text = _text(rating.get("review_text"))
    if not text and recommendation:
        text = "Recommends this Page" if recommendation == "positive" else "Does not recommend"
    return InboundItem(
        external_id=f"rating:{story_id}",
        thread_key=f"rating:{story_id}",
        kind="review",
        text=text,
        sent_at=sent_at,
        author=author if author and author.platform_user_id != page_id else None,
        rating=int(stars) if isinstance(stars, int) and 1 <= stars <= 5 else None,
        raw={"rating": rating},
    )
