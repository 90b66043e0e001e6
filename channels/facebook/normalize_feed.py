"""The Page feed's payloads → InboundItem: comments, visitor posts, mentions and
recommendations, polled or by webhook (``feed``, ``mention``, ``ratings`` changes)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..base import InboundItem, Moderation
from . import media
from .client import parse_time
from .normalize_parts import (
    ADD_VERBS,
    EDIT_VERBS,
    POST_ITEMS,
    STATUS_PLACEHOLDERS,
    _author,
    _dict,
    _media_urls,
    _person,
    _text,
    comment_thread,
)


def post_permalink(post_id: str, permalink: str = "") -> str:
    """Where "open on platform" goes for a post: its permalink, else the post id on
    facebook.com (which redirects to the post). Never the link a shared post points to."""
    return permalink or (f"https://www.facebook.com/{post_id}" if post_id else "")


def comment_item(
    comment: dict[str, Any], *, page_id: str, post_id: str, edited: bool = False
) -> InboundItem | None:
    """A comment from ``GET /{post-id}/comments`` (fields id, from, message, created_time,
    parent{id}, permalink_url)."""
    comment_id = comment.get("id")
    sent_at = parse_time(comment.get("created_time"))
    if not comment_id or sent_at is None:
        return None
    parent = _dict(comment.get("parent"))
    parent_id = str(parent.get("id") or "")
    author = _author(comment.get("from"))
    is_ours = bool(author and author.platform_user_id == page_id)
    return InboundItem(
        external_id=str(comment_id),
        thread_key=comment_thread(str(comment_id), parent_id, post_id),
        kind="comment",
        text=_text(comment.get("message")),
        attachments=media.story_attachments(comment.get("attachment")),
        sent_at=sent_at,
        author=None if is_ours else author,
        is_ours=is_ours,
        edited=edited,
        url=_text(comment.get("permalink_url")),
        parent_external_id=parent_id or post_id,
        raw={"comment": comment, "post_id": post_id},
    )


def visitor_post_item(
    post: dict[str, Any], *, page_id: str, placeholder: str = ""
) -> InboundItem | None:
    """A post on the Page's feed written by someone else; the Page's own posts are not items.

    A post whose author Meta does not name is still a customer's post (anonymous), not lost.
    ``placeholder`` ("[photo]") is the text of a post without message or story.
    """
    author = _author(post.get("from"))
    sent_at = parse_time(post.get("created_time"))
    if not post.get("id") or sent_at is None:
        return None
    if author is not None and author.platform_user_id == page_id:
        return None
    post_id = str(post["id"])
    text = _text(post.get("message")) or _text(post.get("story"))
    attachments = media.story_attachments(post.get("attachments"))
    if not text and not attachments:
        # Meta named no media (an older post, a field not granted): say what kind of post it is
        # rather than show an empty bubble.
        text = placeholder or STATUS_PLACEHOLDERS.get(_text(post.get("status_type")), "")
    return InboundItem(
        external_id=post_id,
        thread_key=f"post:{post_id}",
        kind="post",
        text=text,
        attachments=attachments,
        sent_at=sent_at,
        author=author,
        url=post_permalink(post_id, _text(post.get("permalink_url"))),
        raw={"post": post},
    )


def feed_change(
    value: Any, *, page_id: str, entry_time: Any = None
) -> InboundItem | Moderation | None:
    """One ``feed`` change from a Page webhook (``entry[].changes[].value``).

    ``entry_time`` is the entry's ``time``: a change without its own ``created_time`` (Meta
    leaves it out of some photo, video and older-shape changes) is dated by it, never dropped.
    """
    if not isinstance(value, dict):
        return None
    item = value.get("item")
    if item == "comment":
        return _comment_change(value, page_id=page_id, entry_time=entry_time)
    if item in POST_ITEMS:
        return _post_change(value, page_id=page_id, entry_time=entry_time)
    return None


def _comment_change(
    value: dict[str, Any], *, page_id: str, entry_time: Any, kind: str = "comment"
) -> InboundItem | Moderation | None:
    comment_id = value.get("comment_id")
    verb = value.get("verb")
    if not comment_id:
        return None
    if verb in ("hide", "unhide"):
        return Moderation(external_id=str(comment_id), hidden=verb == "hide")
    if verb in ("remove", "delete"):
        return Moderation(external_id=str(comment_id), removed=True)
    if verb not in ADD_VERBS:
        return None
    post_id = str(value.get("post_id") or "")
    parent_id = str(value.get("parent_id") or "")
    post = _dict(value.get("post"))
    created = value.get("created_time")
    comment = {
        "id": comment_id,
        "from": _person(value),
        "message": value.get("message"),
        "created_time": created if parse_time(created) is not None else entry_time,
        "permalink_url": _text(post.get("permalink_url")),
    }
    if parent_id and parent_id != post_id:
        comment["parent"] = {"id": parent_id}
    found = comment_item(comment, page_id=page_id, post_id=post_id, edited=verb in EDIT_VERBS)
    if found is None:
        return None
    raw: dict[str, Any] = {"webhook": value, "post_id": post_id}
    urls = _media_urls(value)
    if urls:
        raw["media"] = urls
    # Keep the webhook's own payload for the record, not the reshaped dict.
    return replace(found, raw=raw, attachments=media.feed_change_attachments(value))


def _post_change(
    value: dict[str, Any], *, page_id: str, entry_time: Any
) -> InboundItem | Moderation | None:
    item, verb = value.get("item"), value.get("verb")
    post_id = value.get("post_id")
    if not post_id:
        return None
    if verb in ("remove", "delete"):
        return Moderation(external_id=str(post_id), removed=True)
    if verb in ("hide", "unhide"):
        return Moderation(external_id=str(post_id), hidden=verb == "hide")
    if verb not in ADD_VERBS:
        return None
    urls = _media_urls(value)
    attachments = media.feed_change_attachments(value)
    post = _dict(value.get("post"))
    created = value.get("created_time")
    shape = {
        "id": post_id,
        "from": _person(value),
        "message": value.get("message"),
        "created_time": created if parse_time(created) is not None else entry_time,
        # A shared post's ``link`` is what it shares, not the post: never its permalink.
        "permalink_url": _text(post.get("permalink_url")),
    }
    placeholder = "" if attachments else _media_placeholder(item, value, urls)
    found = visitor_post_item(shape, page_id=page_id, placeholder=placeholder)
    if found is None:
        return None
    raw: dict[str, Any] = {"webhook": value}
    if urls:
        raw["media"] = urls
    return replace(found, raw=raw, edited=verb in EDIT_VERBS, attachments=attachments)


def _media_placeholder(item: Any, value: dict[str, Any], media: list[str]) -> str:
    """ "[photo]", "[video]" or "[shared link]" for a post without text, like attachments of
    comments and messages: the agent sees what kind of post it is."""
    if item == "video" or value.get("video"):
        return "[video]"
    if item == "photo" or value.get("photo") or value.get("photos") or media:
        return "[photo]"
    if item == "share":
        return "[shared link]"
    return ""


def mention_change(
    value: Any, *, page_id: str, entry_time: Any = None
) -> InboundItem | Moderation | None:
    """A ``mention`` change: someone mentioned the Page in a post or a comment.

    A mention in a comment is that comment, threaded as any comment (so the ``feed`` webhook
    or a poll delivering the same comment id stores it once); a mention in a post is that post
    as a ``post:`` thread. The author comes as ``from`` or ``sender_id``/``sender_name``.
    """
    if not isinstance(value, dict):
        return None
    if value.get("item") == "comment" or value.get("comment_id"):
        return _comment_change(value, page_id=page_id, entry_time=entry_time)
    if value.get("item") in (*POST_ITEMS, None):
        return _post_change(
            {**value, "item": value.get("item") or "post"}, page_id=page_id, entry_time=entry_time
        )
    return None


def rating_change(
    value: Any, *, page_id: str, entry_time: Any = None
) -> InboundItem | Moderation | None:
    """A ``ratings`` change: a recommendation (``item: "rating"``) added, edited or removed.

    The item is the one :func:`rating_item` makes from ``GET /{page-id}/ratings``
    (``rating:<open_graph_story_id>``), so a webhook and a poll meet in one ticket. A comment on
    a recommendation (``item: "comment"``) joins that recommendation's thread.
    """
    if not isinstance(value, dict):
        return None
    story_id = str(value.get("open_graph_story_id") or "")
    verb = value.get("verb")
    if not story_id:
        return None
    if value.get("item") == "comment":
        comment_id = str(value.get("comment_id") or "")
        if not comment_id:
            return None
        found = _comment_change(value, page_id=page_id, entry_time=entry_time)
        if not isinstance(found, InboundItem):
            return found
        return replace(found, thread_key=f"rating:{story_id}", kind="review")
    if verb in ("remove", "delete"):
        return Moderation(external_id=f"rating:{story_id}", removed=True)
    if verb not in ADD_VERBS:
        return None
    created = value.get("created_time")
    rating = {
        "open_graph_story": {"id": story_id},
        "created_time": created if parse_time(created) is not None else entry_time,
        "reviewer": _person(value, "reviewer") or _person(value),
        "recommendation_type": value.get("recommendation_type"),
        "review_text": value.get("review_text"),
        "rating": value.get("rating"),
    }
    found = rating_item(rating, page_id=page_id)
    if found is None:
        return None
    return replace(found, raw={"webhook": value}, edited=verb in EDIT_VERBS)


def rating_item(rating: dict[str, Any], *, page_id: str) -> InboundItem | None:
    """A Page recommendation from ``GET /{page-id}/ratings`` (gone from Graph v22.0)."""
    story = _dict(rating.get("open_graph_story"))
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
