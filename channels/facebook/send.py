"""Sending from a Facebook Page: comments (with one photo), private replies ("move to DM"),
and Messenger replies in parts, each part sent exactly once; and finding an earlier attempt
of a reply whose outcome is unknown (``Connector.find_sent``)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.utils import timezone

from ..base import (
    IdentityHint,
    OutboundAttachment,
    OutboundReply,
    OutcomeUnknown,
    PermanentError,
    SendResult,
    check_attachments,
)
from ..meta.send import CLOCK_SKEW, earlier_attempt, is_private_reply, private_reply_post
from . import client, normalize

if TYPE_CHECKING:
    from .connector import FacebookPageConnector, MessengerConnector

# How long the parts of a multi-part Messenger reply already sent are remembered (a reply is
# retried within hours; a week covers any backoff).
PARTS_TTL = 7 * 24 * 3600
# The ``metadata`` the Send API echoes back on our own attachment messages: those echoes are
# parts of a reply we store as one message, not new messages from the Page.
PART_METADATA = normalize.REPLY_PART_METADATA


# --- the Page feed ----------------------------------------------------------------------------
def reply_target(reply: OutboundReply) -> str:
    """Where a public reply goes: the top-level comment of the thread (Facebook nests one
    level deep, so replying to a reply is replying to its top-level comment), the visitor
    post, or the recommendation's story."""
    prefix, _, ident = reply.thread_key.partition(":")
    if prefix in ("comment", "post", "rating") and ident:
        return ident
    if reply.in_reply_to:
        return reply.in_reply_to
    raise PermanentError(f"Cannot tell what to reply to in thread {reply.thread_key!r}.")


def comment_send(connector: FacebookPageConnector, reply: OutboundReply) -> SendResult:
    """A public comment in the thread, with its photo if one is attached."""
    target = reply_target(reply)
    check_attachments(connector, reply.attachments)
    if reply.attachments:
        photo = reply.attachments[0]
        with photo.open() as handle:
            result = client.post(
                connector.graph,
                f"{target}/comments",
                files={"source": (photo.name, handle, photo.mime_type)},
                message=reply.text,
            )
    else:
        result = client.post(connector.graph, f"{target}/comments", message=reply.text)
    comment_id = str(result.get("id") or "")
    if not comment_id:
        raise OutcomeUnknown("Facebook accepted the comment but returned no id.")
    return SendResult(external_id=comment_id, raw=result)


def private_reply_send(connector: FacebookPageConnector, reply: OutboundReply) -> SendResult:
    """One Messenger message to the commenter about their comment or visitor post; the
    person's Messenger id comes back and travels as an identity hint."""
    page_id = connector._require_page()
    # The inbox may pick a comment of the thread ("move to DM" on that message); by default
    # the thread's latest customer comment.
    comment_id = str(reply.options.get("comment_id") or reply.in_reply_to)
    commenter = str(
        reply.options.get("commenter_id") if reply.options.get("comment_id") else reply.recipient_id
    )
    if not comment_id or reply.thread_key.startswith("rating:"):
        raise PermanentError("A private reply needs a comment or visitor post to answer.")
    recipient_key = "post_id" if reply.thread_key == f"post:{comment_id}" else "comment_id"
    message_id, result = private_reply_post(
        functools.partial(client.post, connector.graph),
        page_id,
        {recipient_key: comment_id},
        reply.text,
        platform="Facebook",
        messaging_type="RESPONSE",
    )
    psid = str(result.get("recipient_id") or "")
    # The commenter and this Messenger id are one person: delivery links them.
    hints = (IdentityHint(known_uid=commenter, other_uid=psid),) if psid and commenter else ()
    return SendResult(external_id=message_id, raw=result, identity_hints=hints)


def comment_find_sent(connector: FacebookPageConnector, reply: OutboundReply) -> SendResult | None:
    if is_private_reply(reply):
        # Meta lists no private replies by comment, and refuses a second one anyway.
        raise OutcomeUnknown("Facebook offers no way to look up a private reply.")
    target = reply_target(reply)
    page = client.get(
        connector.graph,
        f"{target}/comments",
        filter="stream",
        order="reverse_chronological",
        fields="id,from,message,created_time",
        limit=50,
    )
    return match_ours(page.get("data") or [], reply, connector.page_id)


def match_ours(
    candidates: list[dict[str, Any]], reply: OutboundReply, page_id: str, text_key: str = "message"
) -> SendResult | None:
    """Our text, written by the Page, after the reply was queued: the earlier attempt."""
    return earlier_attempt(
        reply,
        (
            (
                candidate,
                str(_author(candidate).get("id") or "") == page_id,
                candidate.get(text_key),
                client.parse_time(candidate.get("created_time")),
            )
            for candidate in candidates
        ),
    )


def _author(candidate: dict[str, Any]) -> dict[str, Any]:
    author = candidate.get("from")
    return author if isinstance(author, dict) else {}


# --- Messenger --------------------------------------------------------------------------------
class MessengerParts:
    """A Messenger reply as parts (its text, then each attachment: the Send API takes one
    attachment per message, and text and attachment not together), and which parts are sent,
    remembered in the cache under the reply's idempotency key."""

    def __init__(self, connector: MessengerConnector, reply: OutboundReply) -> None:
        self.connector, self.reply = connector, reply
        self.parts: list[tuple[str, dict[str, Any]]] = []
        if reply.text.strip():
            self.parts.append(("text", {"text": reply.text}))
        for index, attachment in enumerate(reply.attachments):
            self.parts.append((f"file{index}", {"attachment": attachment}))
        self.key = f"messenger-parts:{connector.channel.id}:{reply.idempotency_key}"

    def progress(self) -> dict[str, Any]:
        found = cache.get(self.key)
        if isinstance(found, dict) and isinstance(found.get("sent"), dict):
            return found
        return {"sent": {}, "pending": ""}

    def save(self, progress: dict[str, Any]) -> None:
        cache.set(self.key, progress, PARTS_TTL)

    def result(self, progress: dict[str, Any]) -> SendResult:
        ids = [progress["sent"][key] for key, _ in self.parts if key in progress["sent"]]
        return SendResult(external_id=ids[0], raw={"parts": dict(progress["sent"])})


def messenger_send(connector: MessengerConnector, reply: OutboundReply) -> SendResult:
    """The text, then each attachment as its own message. Every part is sent exactly once: a
    retry after part two failed sends part three, not part one again."""
    page_id = connector._require_page()
    psid = connector.dm_recipient(reply)
    check_attachments(connector, reply.attachments)
    if not reply.attachments:
        return _part_send(connector, page_id, psid, reply, {"text": reply.text})
    parts = MessengerParts(connector, reply)
    progress = parts.progress()
    for key, message in parts.parts:
        if key in progress["sent"]:
            continue
        progress["pending"] = key
        parts.save(progress)
        try:
            result = _part_send(connector, page_id, psid, reply, message, key=key)
        except OutcomeUnknown:
            raise  # "pending" stays: find_sent looks for this part before a retry
        except Exception:
            progress["pending"] = ""
            parts.save(progress)
            raise
        progress["sent"][key] = result.external_id
        progress["pending"] = ""
        parts.save(progress)
    return parts.result(progress)


def _part_send(
    connector: MessengerConnector,
    page_id: str,
    psid: str,
    reply: OutboundReply,
    message: dict[str, Any],
    *,
    key: str = "",
) -> SendResult:
    data: dict[str, Any] = {"recipient": {"id": psid}}
    attachment: OutboundAttachment | None = message.get("attachment")
    if attachment is None:
        data["message"] = dict(message)
    else:
        data["message"] = {
            "attachment": {"type": attachment.kind, "payload": {"is_reusable": False}},
            "metadata": f"{PART_METADATA}{reply.idempotency_key}:{key}",
        }
    data.update(connector.tag_fields(reply.options) or {"messaging_type": "RESPONSE"})
    if attachment is None:
        result = client.post(connector.graph, f"{page_id}/messages", **data)
    else:
        with attachment.open() as handle:
            result = client.post(
                connector.graph,
                f"{page_id}/messages",
                files={"filedata": (attachment.name, handle, attachment.mime_type)},
                **data,
            )
    message_id = str(result.get("message_id") or "")
    if not message_id:
        raise OutcomeUnknown("Facebook accepted the message but returned no id.")
    return SendResult(external_id=message_id, raw=result)


def messenger_find_sent(connector: MessengerConnector, reply: OutboundReply) -> SendResult | None:
    page_id = connector._require_page()
    psid = connector.dm_recipient(reply)
    page = client.get(
        connector.graph,
        f"{page_id}/conversations",
        platform="messenger",
        user_id=psid,
        fields="messages.limit(25){id,message,from,created_time,attachments{id}}",
    )
    messages: list[dict[str, Any]] = []
    for conversation in page.get("data") or []:
        messages.extend((conversation.get("messages") or {}).get("data") or [])
    if not reply.attachments:
        return match_ours(messages, reply, page_id, text_key="message")
    return _parts_find(connector, reply, messages, page_id)


def _parts_find(
    connector: MessengerConnector,
    reply: OutboundReply,
    messages: list[dict[str, Any]],
    page_id: str,
) -> SendResult | None:
    """For a reply in parts: settle the part whose outcome is unknown. Found on Messenger,
    it is recorded as sent; not found, it will be sent. Returns the whole reply's result
    only when every part is sent; None lets ``send`` post the parts still missing."""
    parts = MessengerParts(connector, reply)
    progress = parts.progress()
    pending = progress.get("pending") or ""
    if pending == "text":
        found = match_ours(messages, reply, page_id, text_key="message")
        if found is not None:
            progress["sent"]["text"] = found.external_id
    elif pending:
        # Our attachment messages since the reply was queued, oldest first; those beyond
        # the ones already recorded are the part in doubt.
        earliest = (reply.created_at or timezone.now()) - CLOCK_SKEW
        ours = [
            m
            for m in messages
            if str((m.get("from") or {}).get("id") or "") == page_id
            and (m.get("attachments") or {}).get("data")
            and (client.parse_time(m.get("created_time")) or earliest) >= earliest
        ]
        ours.sort(key=lambda m: str(m.get("created_time") or ""))
        known = set(progress["sent"].values())
        fresh = [m for m in ours if str(m.get("id")) not in known]
        if fresh:
            progress["sent"][pending] = str(fresh[0]["id"])
    progress["pending"] = ""
    parts.save(progress)
    if parts.parts and all(key in progress["sent"] for key, _ in parts.parts):
        return parts.result(progress)
    return None
