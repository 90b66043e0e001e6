"""WhatsApp Cloud API webhook bodies (field ``messages``) as plain data.

One ``change.value`` holds the business number (``metadata.phone_number_id``), the senders'
profiles (``contacts``), and any of ``messages`` (customers writing), ``statuses`` (what
happened to ours) and ``errors`` (about the number or the app). Every message type becomes
text an agent can read, plus attachments where it has any; a type we do not know is said
plainly, never an empty bubble. The payload shapes and their sources: docs/channels/whatsapp.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.payload import child

from ..base import InboundAttachment, InboundAuthor, InboundItem
from ..facebook.client import parse_time
from .client import error_text

MEDIA_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "file",
    "sticker": "sticker",
}
# What a customer writes to stop template messages (case and surrounding space ignored).
OPT_OUT_WORDS = frozenset({"stop", "afmelden"})
STATUS_ORDER = ("sent", "delivered", "read", "failed")


def thread_key(wa_id: str) -> str:
    """One ticket per customer conversation: the customer's WhatsApp id."""
    return f"wa:{wa_id}"


def e164(wa_id: str) -> str:
    digits = "".join(ch for ch in str(wa_id) if ch.isdigit())
    return f"+{digits}" if digits else ""


@dataclass(frozen=True, slots=True)
class Status:
    """What happened to one of our messages (``value.statuses[]``)."""

    wamid: str
    status: str
    at: dt.datetime
    recipient_id: str = ""
    error_code: int | None = None
    error_title: str = ""
    error_detail: str = ""
    pricing_category: str = ""


@dataclass(frozen=True, slots=True)
class ChannelError:
    """An error about the number or the app as a whole (``value.errors[]``)."""

    code: int | None
    text: str


@dataclass(slots=True)
class ValueResult:
    phone_number_id: str
    items: list[InboundItem] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    errors: list[ChannelError] = field(default_factory=list)
    # wa_id -> True (wrote an opt-out word) or False (wrote anything else), in order.
    consent: dict[str, bool] = field(default_factory=dict)


def values(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``value`` of every ``messages`` change of a WhatsApp Business Account body."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return []
    found = []
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if isinstance(value, dict):
                found.append(value)
    return found


def phone_number_id(value: dict[str, Any]) -> str:
    metadata = value.get("metadata")
    return str(metadata.get("phone_number_id") or "") if isinstance(metadata, dict) else ""


def value_result(value: dict[str, Any]) -> ValueResult:
    result = ValueResult(phone_number_id=phone_number_id(value))
    names = {}
    for contact in _list(value.get("contacts")):
        profile = child(contact, "profile")
        if contact.get("wa_id"):
            names[str(contact["wa_id"])] = str(profile.get("name") or "")
    for message in _list(value.get("messages")):
        item = message_item(message, names=names)
        if item is None:
            continue
        result.items.append(item)
        wa_id = item.author.platform_user_id if item.author else ""
        if message.get("type") == "text":
            result.consent[wa_id] = item.text.strip().lower() not in OPT_OUT_WORDS
        elif wa_id:
            result.consent[wa_id] = True
    for status in _list(value.get("statuses")):
        parsed = status_of(status)
        if parsed is not None:
            result.statuses.append(parsed)
    for error in _list(value.get("errors")):
        result.errors.append(ChannelError(code=_int(error.get("code")), text=_error_text(error)))
    return result


def status_of(status: dict[str, Any]) -> Status | None:
    wamid = str(status.get("id") or "")
    state = str(status.get("status") or "")
    if not wamid or state not in STATUS_ORDER:
        return None
    errors = _list(status.get("errors"))
    first = errors[0] if errors else {}
    pricing = child(status, "pricing")
    return Status(
        wamid=wamid,
        status=state,
        at=parse_time(status.get("timestamp")) or dt.datetime.now(dt.UTC),
        recipient_id=str(status.get("recipient_id") or ""),
        error_code=_int(first.get("code")),
        error_title=str(first.get("title") or first.get("message") or ""),
        error_detail=_details(first),
        pricing_category=str(pricing.get("category") or ""),
    )


def message_item(message: dict[str, Any], *, names: dict[str, str]) -> InboundItem | None:
    wamid = str(message.get("id") or "")
    wa_id = str(message.get("from") or "")
    if not wamid or not wa_id:
        return None
    kind = str(message.get("type") or "unsupported")
    text, attachments = _content(kind, message)
    context = child(message, "context")
    parent = str(context.get("id") or "")
    if kind == "reaction":
        parent = str((message.get("reaction") or {}).get("message_id") or parent)
    referral = message.get("referral")
    if isinstance(referral, dict):
        attachments.append(_referral(referral))
        headline = referral.get("headline") or referral.get("source_url") or ""
        text = f"{text}\n(Came from a click-to-WhatsApp ad: {headline})".strip()
    if context.get("forwarded") or context.get("frequently_forwarded"):
        text = f"(Forwarded) {text}"
    return InboundItem(
        external_id=wamid,
        thread_key=thread_key(wa_id),
        kind="dm",
        text=text,
        sent_at=parse_time(message.get("timestamp")) or dt.datetime.now(dt.UTC),
        author=InboundAuthor(
            platform_user_id=wa_id,
            handle=e164(wa_id),
            display_name=names.get(wa_id, ""),
            phone=e164(wa_id),
        ),
        parent_external_id=parent,
        raw=message,
        attachments=tuple(attachments),
    )


_Content = tuple[str, list[InboundAttachment]]


def _content(kind: str, message: dict[str, Any]) -> _Content:
    """The message's text and attachments, by its type: what the customer sent, in words an
    agent reads, with the media, place, cards or products as attachments."""
    found = message.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return str(body.get("body") or ""), []
    if kind in MEDIA_KINDS:
        return _media(kind, body)
    family = _FAMILIES.get(kind)
    if family is not None:
        return family(body, message)
    return _unsupported(kind, message)


def _media(kind: str, body: dict[str, Any]) -> _Content:
    """An image, video, document, audio or sticker: its caption, or a word for what it is."""
    attachment = InboundAttachment(
        kind=MEDIA_KINDS[kind],
        media_id=str(body.get("id") or ""),
        mime_type=str(body.get("mime_type") or ""),
        name=str(body.get("filename") or ""),
        external_id=str(body.get("id") or ""),
        title="Voice message" if kind == "audio" and body.get("voice") else "",
        detail={"sha256": body["sha256"]} if body.get("sha256") else {},
    )
    caption = str(body.get("caption") or "")
    if not caption and kind == "sticker":
        caption = "(Sticker)"
    elif not caption and kind == "audio":
        caption = "(Voice message)" if body.get("voice") else "(Audio)"
    return caption, [attachment]


def _location(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
    lat, lon = _float(body.get("latitude")), _float(body.get("longitude"))
    where = place or (f"{lat}, {lon}" if lat is not None else "")
    return f"Shared a location: {where}".strip(), [
        InboundAttachment(
            kind="location",
            latitude=lat,
            longitude=lon,
            title=place,
            url=str(body.get("url") or ""),
        )
    ]


def _contacts(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    """Contact cards: the cards sit in the message's ``contacts`` list, not under a body."""
    cards = []
    for contact in _list(message.get("contacts")):
        name = child(contact, "name")
        phones = [str(p.get("phone") or p.get("wa_id") or "") for p in _list(contact.get("phones"))]
        emails = [str(e.get("email") or "") for e in _list(contact.get("emails"))]
        cards.append(
            InboundAttachment(
                kind="contact",
                title=str(name.get("formatted_name") or name.get("first_name") or ""),
                detail={"phones": [p for p in phones if p], "emails": [e for e in emails if e]},
            )
        )
    listed = "; ".join(
        " ".join([c.title, *c.detail["phones"], *c.detail["emails"]]).strip() for c in cards
    )
    return f"Shared contact card(s): {listed}", cards


def _interactive(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    """A reply to our list or buttons, or a filled-in form."""
    reply_type = str(body.get("type") or "")
    reply = child(body, reply_type)
    title = str(reply.get("title") or "")
    described = f"{title} — {reply['description']}" if reply.get("description") else title
    label = "list" if reply_type == "list_reply" else "button"
    if reply_type == "nfm_reply":
        return f"Answered a form: {reply.get('response_json') or ''}".strip(), []
    return f"Chose {label} option: {described}", []


def _button(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    """A quick-reply button of one of our templates."""
    return f"Tapped template button: {body.get('text') or body.get('payload') or ''}", []


def _reaction(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    emoji = str(body.get("emoji") or "")
    return (f"Reacted {emoji} to a message" if emoji else "Removed their reaction"), []


def _order(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    """An order from our catalogue: one line and one product attachment per item."""
    products = []
    lines = []
    for product in _list(body.get("product_items")):
        item = str(product.get("product_retailer_id") or "")
        quantity = product.get("quantity")
        price = f"{product.get('item_price', '')} {product.get('currency', '')}".strip()
        lines.append(f"{quantity} × {item} ({price})")
        products.append(
            InboundAttachment(kind="product", title=item, external_id=item, detail=product)
        )
    note = str(body.get("text") or "")
    return f"Placed an order: {'; '.join(lines)}" + (f"\n{note}" if note else ""), products


def _system(body: dict[str, Any], message: dict[str, Any]) -> _Content:
    """WhatsApp's own notice, such as a changed number."""
    text = str(body.get("body") or "")
    if body.get("type") == "user_changed_number" or body.get("wa_id") or body.get("new_wa_id"):
        new = e164(str(body.get("wa_id") or body.get("new_wa_id") or ""))
        text = text or f"The customer changed their number to {new}."
    return f"(System) {text or 'A WhatsApp system message.'}", []


_FAMILIES: dict[str, Callable[[dict[str, Any], dict[str, Any]], _Content]] = {
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
}


def _unsupported(kind: str, message: dict[str, Any]) -> _Content:
    """A message WhatsApp does not pass on, or a type newer than this code: say so, with
    Meta's reason where given."""
    errors = _list(message.get("errors"))
    reason = _error_text(errors[0]) if errors else ""
    if kind == "unsupported":
        text = (
            "The customer sent a message WhatsApp does not pass on to businesses (for example a "
            "poll or a view-once message). Ask them to send it another way."
        )
    else:
        text = f"The customer sent a '{kind}' message, which Webcare cannot show yet."
    if reason:
        text = f"{text} [{reason}]"
    return text, [InboundAttachment(kind="unsupported", title=kind, detail={"reason": reason})]


def _referral(referral: dict[str, Any]) -> InboundAttachment:
    return InboundAttachment(
        kind="link",
        url=str(referral.get("source_url") or ""),
        title=str(referral.get("headline") or "Click-to-WhatsApp ad"),
        preview_url=str(referral.get("thumbnail_url") or referral.get("image_url") or ""),
        detail={
            k: referral[k]
            for k in ("source_id", "source_type", "body", "media_type", "ctwa_clid")
            if k in referral
        },
    )


def _error_text(error: dict[str, Any]) -> str:
    return error_text(
        error.get("code"), str(error.get("title") or error.get("message") or ""), _details(error)
    )


def _details(error: dict[str, Any]) -> str:
    data = child(error, "error_data")
    return str(data.get("details") or "")


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
