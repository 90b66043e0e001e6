"""Instagram Graph objects and webhook events → InboundItem: one normaliser for polls and
webhooks, so a comment or a DM delivered both ways has the same ``external_id`` (Meta's own id:
the comment id; the message id, which is the webhook's ``mid``) and the same ``thread_key``.

Threads (docs/channels/instagram.md):

- ``comment:<top-level comment id>``: a comment on the account's media and every reply to it.
  Instagram nests one level: a reply carries ``parent_id``, the top-level comment.
- ``mention:<comment id>`` / ``mention:<media id>``: the account @mentioned in someone else's
  comment or caption.
- ``dm:<IGSID>``: the DM conversation with one person. Comments' ``from.id`` and DMs'
  ``sender.id`` are the same Instagram-scoped id, so one person is one identity.

Pure functions: no network, no ORM. Reused from the Facebook normaliser: :class:`Moderation`
(an unsend) and the attachment placeholders ("[image]"), the same on both Meta platforms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from channels.payload import child

from ..base import InboundAttachment, InboundAuthor, InboundItem, Moderation
from ..facebook.normalize_messenger import message_edit_item
from ..facebook.normalize_parts import _attachments_text, _text
from .client import parse_time

# Webhook attachment ``type`` → InboundAttachment kind. Files are downloaded (Meta's lookaside
# CDN URLs are signed and expire); shares of posts and reels are links.
FILE_TYPES = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
LINK_TYPES = {"share", "ig_post", "ig_reel", "reel", "fallback", "template"}
STORY_MENTION = "story_mention"
REACTION_TEXT = "Reacted {emoji} to a message"


@dataclass(frozen=True, slots=True)
class MentionRef:
    """A ``mentions`` webhook change: only ids. The connector reads what it can of the
    caption (``channels.instagram.mentions``) before it is stored."""

    media_id: str
    comment_id: str = ""


def comment_thread(comment_id: str, parent_id: str = "") -> str:
    return f"comment:{parent_id or comment_id}"


def dm_thread(igsid: str) -> str:
    return f"dm:{igsid}"


def _author(person: Any, username: Any = "") -> InboundAuthor | None:
    person = person if isinstance(person, dict) else {}
    ident = str(person.get("id") or "")
    if not ident:
        return None
    handle = _text(person.get("username")) or _text(username)
    return InboundAuthor(
        platform_user_id=ident,
        handle=handle[:120],
        display_name=handle[:200],
        profile_url=f"https://www.instagram.com/{handle}/" if handle else "",
    )


def _is_ours(author: InboundAuthor | None, *, account_id: str, handle: str) -> bool:
    if author is None:
        return False
    if account_id and author.platform_user_id == account_id:
        return True
    return bool(handle) and author.handle.lower() == handle.lower()


def comment_item(
    comment: dict[str, Any],
    *,
    account_id: str,
    handle: str = "",
    media: dict[str, Any] | None = None,
    fallback_time: Any = None,
    edited: bool = False,
) -> InboundItem | None:
    """A comment from ``GET /{media-id}/comments`` or ``/{comment-id}/replies`` (fields id, text,
    timestamp, from, username, parent_id), or a ``comments`` webhook value reshaped alike.
    A comment the account wrote itself (an answer from the Instagram app) is ours."""
    if not isinstance(comment, dict) or not comment.get("id"):
        return None
    sent_at = parse_time(comment.get("timestamp")) or parse_time(fallback_time)
    if sent_at is None:
        return None
    comment_id = str(comment["id"])
    parent_id = _parent_id(comment)
    author = _author(comment.get("from"), comment.get("username"))
    ours = _is_ours(author, account_id=account_id, handle=handle)
    media = media if isinstance(media, dict) else {}
    if not media and isinstance(comment.get("media"), dict):
        media = comment["media"]
    return InboundItem(
        external_id=comment_id,
        thread_key=comment_thread(comment_id, parent_id),
        kind="comment",
        text=_text(comment.get("text")),
        sent_at=sent_at,
        author=None if ours else author,
        is_ours=ours,
        edited=edited,
        url=_text(media.get("permalink")),
        parent_external_id=parent_id or str(media.get("id") or ""),
        raw={"comment": comment, "media_id": str(media.get("id") or "")},
    )


def _parent_id(comment: dict[str, Any]) -> str:
    parent = comment.get("parent_id")
    if isinstance(parent, dict):  # ``parent`` as an object in some field expansions
        parent = parent.get("id")
    return str(parent or "")


def comment_change(value: Any, *, account_id: str, handle: str, entry_time: Any) -> Any:
    """A ``comments`` (or ``live_comments``) webhook value: ``{id, from: {id, username}, text,
    media: {id, media_product_type}, parent_id?}``. It carries no time of its own; the entry's
    ``time`` dates it."""
    if not isinstance(value, dict) or not value.get("id"):
        return None
    return comment_item(value, account_id=account_id, handle=handle, fallback_time=entry_time)


def mention_change(value: Any) -> MentionRef | None:
    """A ``mentions`` webhook value: ``{media_id, comment_id?}``."""
    if not isinstance(value, dict) or not value.get("media_id"):
        return None
    return MentionRef(
        media_id=str(value["media_id"]), comment_id=str(value.get("comment_id") or "")
    )


def _mention(
    ident: str, *, text: str, data: dict[str, Any], fallback_time: Any, **fields: Any
) -> InboundItem:
    return InboundItem(
        external_id=ident,
        thread_key=f"mention:{ident}",
        kind="mention",
        text=text,
        sent_at=parse_time(data.get("timestamp")) or parse_time(fallback_time) or timezone.now(),
        **fields,
    )


def _by_username(username: str) -> InboundAuthor | None:
    # A caption's author is known by username only: the handle is the stable key.
    return _author({"id": f"username:{username}", "username": username}) if username else None


def unreadable_mention(ref: MentionRef, *, text: str, fallback_time: Any = None) -> InboundItem:
    """A mention Instagram did not let us read: stored with ``text`` saying why, under the
    same thread and ids as a read one, so it can still be answered (``POST /mentions``)."""
    ident = ref.comment_id or ref.media_id
    return _mention(
        ident,
        text=text,
        data={},
        fallback_time=fallback_time,
        parent_external_id=ref.media_id if ref.comment_id else "",
        raw={"mention": {"media_id": ref.media_id, "comment_id": ref.comment_id}},
    )


def tagged_media_item(
    data: dict[str, Any], *, ref: MentionRef, fallback_time: Any = None
) -> InboundItem | None:
    """A media of ``GET /<IG_ID>/tags`` (id, caption, timestamp, username, media_type,
    media_url, permalink): the account @mentioned in the caption of someone else's post."""
    if not isinstance(data, dict):
        return None
    media_id = str(data.get("id") or ref.media_id)
    kind = "video" if _text(data.get("media_type")) == "VIDEO" else "image"
    url = _text(data.get("media_url"))
    return _mention(
        media_id,
        text=_text(data.get("caption")),
        data=data,
        fallback_time=fallback_time,
        author=_by_username(_text(data.get("username"))),
        url=_text(data.get("permalink")),
        raw={"tagged_media": data},
        attachments=(InboundAttachment(kind=kind, url=url, external_id=f"media:{media_id}"),)
        if url
        else (),
    )


# --- DMs --------------------------------------------------------------------------------------
def _attachment(attachment: Any, index: int) -> InboundAttachment | None:
    """A webhook attachment: ``{type, payload: {url, title?, ig_post_media_id?, ...}}``."""
    if not isinstance(attachment, dict):
        return None
    kind = _text(attachment.get("type"))
    payload = child(attachment, "payload")
    url = _text(payload.get("url"))
    if kind in FILE_TYPES:
        return InboundAttachment(kind=FILE_TYPES[kind], url=url, external_id=f"{index}")
    if kind == STORY_MENTION:
        # The customer mentioned the account in their story: the story's media (image or
        # video; Meta does not say which), downloadable until the story expires.
        return InboundAttachment(kind="file", url=url, title="Story mention", external_id="story")
    if kind == "like_heart":
        return InboundAttachment(kind="sticker", title="❤️", external_id=f"{index}")
    if kind in LINK_TYPES:
        return InboundAttachment(
            kind="link",
            url=url,
            title=_text(payload.get("title")) or kind.replace("_", " "),
            external_id=str(
                payload.get("ig_post_media_id") or payload.get("reel_video_id") or index
            ),
            detail={"type": kind},
        )
    return InboundAttachment(kind="unsupported", title=kind or "attachment", external_id=f"{index}")


def _graph_attachment(attachment: Any, index: int) -> InboundAttachment | None:
    """An attachment of ``GET /{message-id}`` / conversation messages: ``image_data{url,
    preview_url}``, ``video_data{url, preview_url}``, ``file_url``, with ``mime_type``, ``name``,
    ``size`` where Meta gives them."""
    if not isinstance(attachment, dict):
        return None
    for key, kind in (("image_data", "image"), ("video_data", "video")):
        data = attachment.get(key)
        if isinstance(data, dict) and _text(data.get("url")):
            return InboundAttachment(
                kind=kind,
                url=data["url"],
                preview_url=_text(data.get("preview_url")),
                mime_type=_text(attachment.get("mime_type")),
                name=_text(attachment.get("name")),
                external_id=f"{index}",
            )
    if _text(attachment.get("file_url")):
        return InboundAttachment(
            kind="file",
            url=attachment["file_url"],
            mime_type=_text(attachment.get("mime_type")),
            name=_text(attachment.get("name")),
            size=attachment.get("size") if isinstance(attachment.get("size"), int) else None,
            external_id=f"{index}",
        )
    return None


def _placeholder(attachments: tuple[InboundAttachment, ...]) -> str:
    return " ".join(f"[{a.title or a.kind}]" for a in attachments)


def messaging_event(event: Any, *, account_id: str) -> InboundItem | Moderation | None:
    """One ``entry[].messaging[]`` event of an ``object: "instagram"`` delivery.

    Messages (text, media, shares, story replies, story mentions), edits (``message_edit``),
    unsends (``message.is_deleted``) and reactions become items or a :class:`Moderation`;
    ``read`` (``messaging_seen``) is not something an agent answers and is skipped. An echo
    (``is_echo``, or the account as sender) is the account's own message, stored as ours:
    our own sends come back with the id we stored and are dropped as duplicates.
    """
    if not isinstance(event, dict):
        return None
    sender = str((event.get("sender") or {}).get("id") or "")
    recipient = str((event.get("recipient") or {}).get("id") or "")
    sent_at = parse_time(event.get("timestamp")) or timezone.now()
    edit = event.get("message_edit")
    if isinstance(edit, dict) and edit.get("mid"):
        return message_edit_item(event, edit, own_id=account_id)
    reaction = event.get("reaction")
    if isinstance(reaction, dict) and reaction.get("mid"):
        return _reaction(event, reaction, sender=sender, account_id=account_id, sent_at=sent_at)
    message = event.get("message")
    if not isinstance(message, dict) or not message.get("mid"):
        return None
    if message.get("is_deleted"):
        return Moderation(external_id=str(message["mid"]), unsent=True)
    is_ours = bool(message.get("is_echo")) or (bool(account_id) and sender == account_id)
    igsid = recipient if is_ours else sender
    if not igsid:
        return None
    attachments = tuple(
        a
        for i, raw in enumerate(message.get("attachments") or [])
        if (a := _attachment(raw, i)) is not None
    )
    text = _text(message.get("text"))
    reply_to = child(message, "reply_to")
    story = child(reply_to, "story")
    if story:
        # A reply to the account's story: the story is what the customer answers.
        attachments = (
            *attachments,
            InboundAttachment(
                kind="link",
                url=_text(story.get("url")),
                title="Reply to your story",
                external_id=f"story:{story.get('id') or ''}",
            ),
        )
    if not text and message.get("is_unsupported"):
        text = "[The customer sent something Meta does not pass on]"
    return InboundItem(
        external_id=str(message["mid"]),
        thread_key=dm_thread(igsid),
        kind="dm",
        text=text or _placeholder(attachments),
        sent_at=sent_at,
        author=None if is_ours else InboundAuthor(platform_user_id=igsid),
        is_ours=is_ours,
        parent_external_id=_text(reply_to.get("mid")),
        raw={"webhook": event},
        attachments=attachments,
    )


def _reaction(
    event: dict[str, Any], reaction: dict[str, Any], *, sender: str, account_id: str, sent_at
) -> InboundItem | None:
    """A customer's reaction to a message (``message_reactions``): shown in the conversation as
    a short line, once per (message, person, emoji); an ``unreact`` is not news."""
    if reaction.get("action") != "react" or not sender or sender == account_id:
        return None
    emoji = _text(reaction.get("emoji")) or _text(reaction.get("reaction")) or "❤️"
    basis = "\x1f".join((str(reaction["mid"]), sender, emoji))
    return InboundItem(
        external_id="reaction:" + hashlib.sha256(basis.encode()).hexdigest()[:40],
        thread_key=dm_thread(sender),
        kind="dm",
        text=REACTION_TEXT.format(emoji=emoji),
        sent_at=sent_at,
        author=InboundAuthor(platform_user_id=sender),
        parent_external_id=str(reaction["mid"]),
        raw={"webhook": event},
    )


def conversation_igsid(conversation: dict[str, Any], *, account_id: str) -> tuple[str, str]:
    """The other participant of a conversation: (IGSID, username)."""
    participants = conversation.get("participants")
    for person in (participants or {}).get("data") or [] if isinstance(participants, dict) else []:
        if isinstance(person, dict) and person.get("id") and str(person["id"]) != account_id:
            return str(person["id"]), _text(person.get("username"))
    return "", ""


def conversation_message_item(
    message: dict[str, Any], *, account_id: str, igsid: str, username: str = ""
) -> InboundItem | None:
    """A message of ``GET /{conversation-id}/messages`` or the nested ``messages`` of
    ``GET /{ig-id}/conversations`` (fields id, created_time, from, to, message, attachments)."""
    if not isinstance(message, dict):
        return None
    sent_at = parse_time(message.get("created_time"))
    if not message.get("id") or sent_at is None or not igsid:
        return None
    author = _author(message.get("from"))
    is_ours = bool(author and author.platform_user_id == account_id)
    if author is not None and not is_ours and not author.handle and username:
        author = _author({"id": author.platform_user_id, "username": username})
    block = message.get("attachments")
    listed = block.get("data") if isinstance(block, dict) else block
    attachments = tuple(
        a for i, raw in enumerate(listed or []) if (a := _graph_attachment(raw, i)) is not None
    )
    text = _text(message.get("message"))
    return InboundItem(
        external_id=str(message["id"]),
        thread_key=dm_thread(igsid),
        kind="dm",
        text=text or _placeholder(attachments) or _attachments_text(block),
        sent_at=sent_at,
        author=None if is_ours else author,
        is_ours=is_ours,
        raw={"message": message},
        attachments=attachments,
    )


@dataclass(slots=True)
class EntryResults:
    items: list[InboundItem]
    moderations: list[Moderation]
    mentions: list[MentionRef]


def entry_results(entry: dict[str, Any], *, account_id: str, handle: str = "") -> EntryResults:
    """Sort one ``object: "instagram"`` entry: ``changes[]`` (``comments``, ``live_comments``,
    ``mentions``) and ``messaging[]`` / ``standby[]`` events."""
    results = EntryResults(items=[], moderations=[], mentions=[])
    entry_time = entry.get("time")
    for change in entry.get("changes") or []:
        if not isinstance(change, dict):
            continue
        name, value = change.get("field"), change.get("value")
        found: Any = None
        if name in ("comments", "live_comments"):
            found = comment_change(
                value, account_id=account_id, handle=handle, entry_time=entry_time
            )
        elif name == "mentions":
            found = mention_change(value)
        _sort(results, found)
    for key in ("messaging", "standby"):
        for event in entry.get(key) or []:
            _sort(results, messaging_event(event, account_id=account_id))
    return results


def _sort(results: EntryResults, found: Any) -> None:
    if isinstance(found, InboundItem):
        results.items.append(found)
    elif isinstance(found, Moderation):
        results.moderations.append(found)
    elif isinstance(found, MentionRef):
        results.mentions.append(found)
