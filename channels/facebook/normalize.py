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
- ``rating:<open graph story id>``: a Page recommendation (polled up to Graph v21.0; the
  ``ratings`` webhook field delivers them on any version).

Besides items, a webhook entry may carry changes to stored messages (:class:`Moderation`: hidden,
removed, unsent) and notices about the Page itself (:class:`PolicyNotice`, Meta blocking or
warning the Page's messaging). :func:`entry_results` sorts one entry into those.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from channels.payload import child, child_text

from ..base import InboundAttachment, InboundAuthor, InboundItem, Moderation
from . import media
from .client import parse_time

POST_ITEMS = {"post", "status", "photo", "video", "share"}
# The Page webhook reference lists both "edit" and "edited" among the verbs; either is an edit.
EDIT_VERBS = {"edit", "edited"}
ADD_VERBS = {"add"} | EDIT_VERBS
# A polled post without text, by its ``status_type`` (Graph Post reference).
STATUS_PLACEHOLDERS = {
    "added_photos": "[photo]",
    "added_video": "[video]",
    "shared_story": "[shared link]",
}
# What an agent sees instead of an empty bubble when Meta says a message exists but not what it
# holds (``message.is_unsupported``).
# ``message.metadata`` on the attachment parts of our replies; the Send API echoes it back.
REPLY_PART_METADATA = "webcare-part:"
UNSUPPORTED_TEXT = "[The customer sent something Meta does not pass on]"


@dataclass(frozen=True, slots=True)
class PolicyNotice:
    """Meta took (or lifted) a policy enforcement action on the Page's messaging:
    ``action`` is "block", "warning" or "unblock"; ``reason`` is Meta's own text."""

    action: str
    reason: str = ""


@dataclass(slots=True)
class EntryResults:
    """What one webhook entry holds, by where it goes: the Page feed channels ("facebook") or
    the Messenger channels, and notices about the Page's messaging."""

    feed: list[InboundItem | Moderation] = field(default_factory=list)
    messaging: list[InboundItem | Moderation] = field(default_factory=list)
    policy: list[PolicyNotice] = field(default_factory=list)


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


def _person(value: dict[str, Any], prefix: str = "sender") -> dict[str, Any] | None:
    """The author of a webhook change as a Graph ``from`` object.

    Current ``feed`` changes carry ``from: {id, name}``; older ones, ``mention`` and ``ratings``
    changes carry ``sender_id``/``sender_name`` (``reviewer_id``/``reviewer_name`` for a rating)
    instead. Both shapes name the same person.
    """
    person = value.get("from")
    if isinstance(person, dict) and person.get("id"):
        return person
    ident = value.get(f"{prefix}_id")
    if ident in (None, ""):
        return None
    return {"id": str(ident), "name": _text(value.get(f"{prefix}_name"))}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _attachments_text(attachments: Any) -> str:
    """The words of the templates and shared products among a message's attachments (each
    element's title and subtitle, the buttons' titles), as plain text: what the conversation
    said, readable in the list and in search. Media and files are not text: they are the
    item's ``attachments`` (``channels.facebook.media``), never a placeholder here."""
    if isinstance(attachments, dict):
        attachments = attachments.get("data")
    if not isinstance(attachments, list):
        return ""
    parts = []
    for attachment in attachments:
        if isinstance(attachment, dict) and attachment.get("type") == "template":
            described = _template_text(attachment)
            if described:
                parts.append(described)
    return " ".join(parts)


def _template_text(attachment: dict[str, Any]) -> str:
    """Title, subtitle and buttons of a template (``payload.elements``), a shared product
    (``payload.product.elements``) or a button template (``payload.text`` + ``buttons``);
    a fallback's title and URL. "" when there is nothing to show."""
    payload = child(attachment, "payload")
    lines: list[str] = []
    title = _text(attachment.get("title"))
    if title:
        lines.append(title)
    product = child(payload, "product")
    elements = product.get("elements") or payload.get("elements") or []
    if _text(payload.get("text")):
        lines.append(_text(payload["text"]))
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        lines.extend(t for t in (_text(element.get("title")), _text(element.get("subtitle"))) if t)
        lines.extend(_button_titles(element.get("buttons")))
    lines.extend(_button_titles(payload.get("buttons")))
    url = _text(attachment.get("url")) or _text(payload.get("url"))
    if url and attachment.get("type") == "fallback":
        lines.append(url)
    return "\n".join(lines)


def _button_titles(buttons: Any) -> list[str]:
    if not isinstance(buttons, list):
        return []
    return [f"[{_text(b.get('title'))}]" for b in buttons if isinstance(b, dict) and b.get("title")]


def _media_urls(value: dict[str, Any]) -> list[str]:
    """The photo and video URLs a feed change names (``link`` of a photo or video item,
    ``photo``, ``video``, ``photos[]``), kept in ``raw`` for the media handling to come."""
    urls = [value.get("photo"), value.get("video")]
    if value.get("item") in ("photo", "video"):
        urls.append(value.get("link"))
    photos = value.get("photos")
    if isinstance(photos, list):
        urls.extend(photos)
    return [u for u in dict.fromkeys(urls) if isinstance(u, str) and u]


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
    parent = child(comment, "parent")
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
    post = child(value, "post")
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
    post = child(value, "post")
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
    attachments = media.graph_message_attachments(message.get("attachments"))
    sticker = _text(message.get("sticker"))
    if sticker:
        # A sticker by itself: the message's ``sticker`` field is its image URL.
        attachments += (InboundAttachment(kind="sticker", url=sticker),)
    return InboundItem(
        external_id=str(message["id"]),
        thread_key=dm_thread(psid),
        kind="dm",
        text=_text(message.get("message")),
        attachments=attachments,
        sent_at=sent_at,
        author=None if is_ours else author,
        is_ours=is_ours,
        raw={"message": message},
    )


def messaging_event(event: dict[str, Any], *, page_id: str) -> InboundItem | Moderation | None:
    """One ``entry[].messaging[]`` event. Messages, edits of messages and button taps
    (postbacks) become items; delivery and read receipts and reactions are not customer text.
    A message the customer unsent (``message.is_deleted``) is a :class:`Moderation`.

    An echo (``message.is_echo``) is the Page's own message, sent by us or by someone answering
    in Meta's own inbox: stored as ours, so it stops the customer's wait. Our own sends come back
    with the ``mid`` we already stored, and the database drops them as duplicates.
    """
    if not isinstance(event, dict):
        return None
    edit = event.get("message_edit")
    if isinstance(edit, dict) and edit.get("mid"):
        return message_edit_item(event, edit, own_id=page_id)
    message = event.get("message")
    postback = event.get("postback")
    if isinstance(postback, dict) and not isinstance(message, dict):
        # A tap on a button the Page sent: the button's title is what the customer "said".
        # Meta documents ``postback.mid``; a postback without one (older clients, Get Started)
        # gets a stable id from who tapped what when, so a redelivery is still stored once.
        mid = postback.get("mid") or _postback_id(event, postback)
        text = _text(postback.get("title")) or _text(postback.get("payload"))
        message = {"mid": mid, "text": text}
    if not isinstance(message, dict) or not message.get("mid"):
        return None
    if message.get("is_echo") and _text(message.get("metadata")).startswith(REPLY_PART_METADATA):
        # The echo of an attachment we sent as part of a reply (MessengerConnector.send): that
        # reply is one stored message already, with its files.
        return None
    if message.get("is_deleted"):
        # Unsent by the customer: a change to the stored message, never a new empty one.
        return Moderation(external_id=str(message["mid"]), unsent=True)
    sender = str((event.get("sender") or {}).get("id") or "")
    recipient = str((event.get("recipient") or {}).get("id") or "")
    is_ours = bool(message.get("is_echo")) or sender == page_id
    psid = recipient if is_ours else sender
    sent_at = parse_time(event.get("timestamp")) or timezone.now()
    if not psid:
        return None
    # The customer's own words; media, files, locations and link cards are attachments. A
    # template or shared product has no words of the customer's: its title and subtitle are
    # the text, so the conversation still reads (the attachment carries them as fields too).
    text = _text(message.get("text"))
    attachments = media.messenger_attachments(message.get("attachments"))
    body = text or _attachments_text(message.get("attachments"))
    if not body and not attachments and message.get("is_unsupported"):
        body = UNSUPPORTED_TEXT
    return InboundItem(
        external_id=str(message["mid"]),
        thread_key=dm_thread(psid),
        kind="dm",
        text=body,
        attachments=attachments,
        sent_at=sent_at,
        author=None if is_ours else InboundAuthor(platform_user_id=psid),
        is_ours=is_ours,
        raw={"webhook": event},
    )


def message_edit_item(
    event: dict[str, Any], edit: dict[str, Any], *, own_id: str
) -> InboundItem | None:
    """The customer edited a message (``message_edit``: ``{mid, text, num_edit}``, Messenger
    and Instagram alike): the new text replaces the stored one. ``num_edit`` counts edits, but
    the first version has no number to compare it with: the latest delivery wins."""
    sender = str((event.get("sender") or {}).get("id") or "")
    sent_at = parse_time(event.get("timestamp")) or timezone.now()
    if not sender or sender == own_id:
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


def _postback_id(event: dict[str, Any], postback: dict[str, Any]) -> str:
    sender = child(event, "sender")
    who = str(sender.get("id") or sender.get("user_ref") or "")
    basis = "\x1f".join((who, str(event.get("timestamp") or ""), _text(postback.get("payload"))))
    return "postback:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def policy_notice(value: Any) -> PolicyNotice | None:
    """A ``messaging_policy_enforcement`` event: ``policy_enforcement: {action, reason}``."""
    if not isinstance(value, dict):
        return None
    enforcement = value.get("policy_enforcement")
    if not isinstance(enforcement, dict) or not _text(enforcement.get("action")):
        return None
    return PolicyNotice(
        action=_text(enforcement["action"]).lower(), reason=_text(enforcement.get("reason"))
    )


def entry_results(entry: dict[str, Any], *, page_id: str) -> EntryResults:
    """Sort one webhook entry (``object: "page"``) into what the channels of the Page store.

    ``changes[]``: ``feed``, ``mention`` and ``ratings`` go to the Page feed channels; a
    ``messaging_policy_enforcement`` change is a notice. ``messaging[]`` and ``standby[]``
    (the events of a conversation another app controls, handover protocol: the same shape,
    still this Page's customers) go to the Messenger channels; an event carrying
    ``policy_enforcement`` is a notice.
    """
    results = EntryResults()
    entry_time = entry.get("time")
    normalisers = {"feed": feed_change, "mention": mention_change, "ratings": rating_change}
    for change in entry.get("changes") or []:
        if not isinstance(change, dict):
            continue
        name = child_text(change, "field")
        if name == "messaging_policy_enforcement":
            notice = policy_notice(change.get("value"))
            if notice is not None:
                results.policy.append(notice)
            continue
        normaliser = normalisers.get(name)
        if normaliser is None:
            continue
        found = normaliser(change.get("value"), page_id=page_id, entry_time=entry_time)
        if found is not None:
            results.feed.append(found)
    for event in [*(entry.get("messaging") or []), *(entry.get("standby") or [])]:
        notice = policy_notice(event)
        if notice is not None:
            results.policy.append(notice)
            continue
        found = messaging_event(event, page_id=page_id)
        if found is not None:
            results.messaging.append(found)
    return results


def rating_item(rating: dict[str, Any], *, page_id: str) -> InboundItem | None:
    """A Page recommendation from ``GET /{page-id}/ratings`` (gone from Graph v22.0)."""
    story = child(rating, "open_graph_story")
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
