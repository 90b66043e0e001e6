"""The pieces every Facebook normaliser uses: thread keys, authors, text, attachment text,
and the constants of the Page webhook and Send API (see ``channels.facebook.normalize``)."""

from __future__ import annotations

from typing import Any

from ..base import InboundAuthor

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


def _dict(value: Any) -> dict[str, Any]:
    """A payload's object, or {} where it holds something else or nothing."""
    return value if isinstance(value, dict) else {}


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
    payload = _dict(attachment.get("payload"))
    lines: list[str] = []
    title = _text(attachment.get("title"))
    if title:
        lines.append(title)
    product = _dict(payload.get("product"))
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
