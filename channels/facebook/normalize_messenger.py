"""Messenger's payloads → InboundItem: conversation messages polled from the Graph API, and
messaging webhook events (messages, edits, unsends, postbacks, reactions)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone

from ..base import InboundAttachment, InboundAuthor, InboundItem, Moderation
from . import media
from .client import parse_time
from .normalize_parts import (
    REPLY_PART_METADATA,
    UNSUPPORTED_TEXT,
    _attachments_text,
    _author,
    _text,
    dm_thread,
)


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
    sender = (event.get("sender") or {}) if isinstance(event.get("sender"), dict) else {}
    who = str(sender.get("id") or sender.get("user_ref") or "")
    basis = "\x1f".join((who, str(event.get("timestamp") or ""), _text(postback.get("payload"))))
    return "postback:" + hashlib.sha256(basis.encode()).hexdigest()[:40]
