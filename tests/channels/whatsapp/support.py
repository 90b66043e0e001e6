"""Doubles of Meta's WhatsApp Cloud API, shaped as its reference pages document them.

Each builder names the page its shape comes from (read 2026-12-07; the pages and the facts we
rely on are listed in docs/channels/whatsapp.md). Optional fields are left out where the page
says they may be absent. Timestamps are epoch seconds as strings, as Meta sends them, built
relative to the clock so nothing depends on today's date.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from channels.meta.signature import signature_for
from tests.factories import make_channel

DOCS = "https://developers.facebook.com/documentation/business-messaging/whatsapp"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
WA_ID = "31612345678"
NAME = "Sanne de Vries"
APP_SECRET = "wa-app-secret-7c1d"
VERIFY_TOKEN = "wa-verify-4411"
TOKEN = "EAAJB-system-user-token"


def graph(path: str = "") -> str:
    return f"https://graph.facebook.com/{settings.GRAPH_API_VERSION}/{path}"


def whatsapp_channel(**kwargs):
    kwargs.setdefault(
        "settings", {"waba_id": WABA_ID, "phone_number_id": PHONE_NUMBER_ID, "read_receipts": True}
    )
    kwargs.setdefault(
        "credentials",
        {"access_token": TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )
    return make_channel("whatsapp", **kwargs)


def now_ts(seconds_ago: int = 0) -> str:
    return str(int(timezone.now().timestamp()) - seconds_ago)


def envelope(value: dict[str, Any], *, number: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    """The body every ``messages`` webhook shares.
    Source: {DOCS}/webhooks/reference/messages/text (Syntax)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": DISPLAY_NUMBER,
                                "phone_number_id": number,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def inbound(message: dict[str, Any], *, wa_id: str = WA_ID, name: str = NAME, **kw) -> dict:
    """A customer's message: ``contacts`` (profile name, wa_id) and one ``messages`` entry."""
    base = {
        "from": wa_id,
        "id": kw.pop(
            "wamid", "wamid.IN" + hashlib.sha256(json.dumps(message).encode()).hexdigest()[:24]
        ),
    }
    base["timestamp"] = kw.pop("timestamp", now_ts())
    return envelope(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{**base, **message}],
        },
        **kw,
    )


# One message of every type, as each type's reference page shows it (page in the comment).
MESSAGES: dict[str, dict[str, Any]] = {
    # {DOCS}/webhooks/reference/messages/text
    "text": {"type": "text", "text": {"body": "Mijn pakket is niet aangekomen"}},
    # {DOCS}/webhooks/reference/messages/image
    "image": {
        "type": "image",
        "image": {
            "caption": "Zo kwam het aan",
            "mime_type": "image/jpeg",
            "sha256": "bkTFJ8Gk0Yo8Z4T2bHIAoU6pSMFuSgGUlVw5E0zJyVk=",
            "id": "1003383421387256",
        },
    },
    # {DOCS}/webhooks/reference/messages/video
    "video": {
        "type": "video",
        "video": {
            "mime_type": "video/mp4",
            "sha256": "k0eDpJ0m3V3Sk3z0kBq0a8PtbJ4tUfQY8t1w1vqvP9g=",
            "id": "1184965536652426",
        },
    },
    # {DOCS}/webhooks/reference/messages/audio ("voice": true for a voice note)
    "audio": {
        "type": "audio",
        "audio": {
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "ZhKgZ0Xm1O2kB1oQ7q2G0n0rW0oP7m8sGQ0+Yh8K9xY=",
            "id": "1146159173939373",
            "voice": True,
        },
    },
    # {DOCS}/webhooks/reference/messages/document
    "document": {
        "type": "document",
        "document": {
            "caption": "De factuur",
            "filename": "factuur-2026-118.pdf",
            "mime_type": "application/pdf",
            "sha256": "Q9i7x0vJ3m8gQ9o0bCq1d0aPj4B0j6Y5S7h9m2l1Z3k=",
            "id": "1078455190766432",
        },
    },
    # {DOCS}/webhooks/reference/messages/sticker
    "sticker": {
        "type": "sticker",
        "sticker": {
            "mime_type": "image/webp",
            "sha256": "Y2F0c3RpY2tlcnNoYTI1NmZvcnRlc3RzMDEyMzQ1Njc=",
            "id": "1219370759522830",
            "animated": False,
        },
    },
    # {DOCS}/webhooks/reference/messages/location
    "location": {
        "type": "location",
        "location": {
            "address": "Damrak 1, 1012 LG Amsterdam",
            "latitude": 52.3766,
            "longitude": 4.8983,
            "name": "Afhaalpunt Centraal",
        },
    },
    # {DOCS}/webhooks/reference/messages/contacts
    "contacts": {
        "type": "contacts",
        "contacts": [
            {
                "name": {
                    "first_name": "Pieter",
                    "last_name": "Bakker",
                    "formatted_name": "Pieter Bakker",
                },
                "phones": [{"phone": "+31 6 98765432", "wa_id": "31698765432", "type": "CELL"}],
                "emails": [{"email": "pieter@example.nl", "type": "WORK"}],
            }
        ],
    },
    # {DOCS}/webhooks/reference/messages/interactive (button_reply)
    "button_reply": {
        "type": "interactive",
        "context": {"from": DISPLAY_NUMBER, "id": "wamid.OUT-buttons"},
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": "return-yes", "title": "Ja, retourneren"},
        },
    },
    # {DOCS}/webhooks/reference/messages/interactive (list_reply)
    "list_reply": {
        "type": "interactive",
        "context": {"from": DISPLAY_NUMBER, "id": "wamid.OUT-list"},
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": "slot-2", "title": "Dinsdag", "description": "12:00 - 14:00"},
        },
    },
    # {DOCS}/webhooks/reference/messages/button (a template's quick-reply button)
    "button": {
        "type": "button",
        "context": {"from": DISPLAY_NUMBER, "id": "wamid.OUT-template"},
        "button": {"payload": "STOP_PROMOS", "text": "Geen aanbiedingen meer"},
    },
    # {DOCS}/webhooks/reference/messages/reaction
    "reaction": {
        "type": "reaction",
        "reaction": {"message_id": "wamid.OUT-earlier", "emoji": "\U0001f44d"},
    },
    # {DOCS}/webhooks/reference/messages/order
    "order": {
        "type": "order",
        "order": {
            "catalog_id": "194836987003835",
            "text": "Graag snel",
            "product_items": [
                {
                    "product_retailer_id": "sku-jas-blauw-m",
                    "quantity": 1,
                    "item_price": 89.95,
                    "currency": "EUR",
                }
            ],
        },
    },
    # {DOCS}/webhooks/reference/messages/text (with "referral": click-to-WhatsApp ad)
    "referral": {
        "type": "text",
        "text": {"body": "Is deze jas nog leverbaar?"},
        "referral": {
            "source_url": "https://fb.me/3cr4Wqqkv",
            "source_id": "120226305854810726",
            "source_type": "ad",
            "body": "Winterjassen -30%",
            "headline": "Winteruitverkoop",
            "media_type": "image",
            "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/jas.png",
            "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7Jw",
        },
    },
    # {DOCS}/webhooks/reference/messages/system (user changed number)
    "system": {
        "type": "system",
        "system": {
            "body": "User A changed from 31612345678 to 31687654321",
            "wa_id": "31687654321",
            "type": "user_changed_number",
        },
    },
    # {DOCS}/webhooks/reference/messages/unsupported
    "unsupported": {
        "type": "unsupported",
        "errors": [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
        "unsupported": {"type": "poll_creation"},
    },
}


def status(wamid: str, state: str, *, seconds_ago: int = 0, **extra) -> dict[str, Any]:
    """One ``statuses`` entry. Source: {DOCS}/webhooks/reference/messages/status. ``sent``,
    ``delivered`` and ``read`` carry pricing (category) in the documented example; ``failed``
    carries ``errors`` with code, title, message, error_data.details."""
    body: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": now_ts(seconds_ago),
        "recipient_id": WA_ID,
    }
    if state in ("sent", "delivered", "read"):
        body["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": "service",
        }
    body.update(extra)
    return body


def failed_status(wamid: str, code: int, title: str, details: str) -> dict[str, Any]:
    return status(
        wamid,
        "failed",
        errors=[
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ],
    )


def statuses(*entries: dict[str, Any]) -> dict[str, Any]:
    return envelope({"statuses": list(entries)})


def send_ok(wamid: str) -> dict[str, Any]:
    """The answer to POST /{phone-number-id}/messages.
    Source: {DOCS}/reference/whatsapp-business-phone-number/message-api (Response)."""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }


# Synchronous error answers, as the error codes page documents them (code, title, details).
# Source: {DOCS}/support/error-codes
ERRORS = {
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone "
        "number in a short period of time.",
    ),
    131047: (
        "Re-engagement message",
        "More than 24 hours have passed since the recipient last replied to the sender number.",
    ),
    131026: ("Message undeliverable", "Unable to deliver message."),
    131051: ("Unsupported message type", "Unsupported message type."),
    190: ("Access token has expired", "Error validating access token: Session has expired."),
    368: (
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account associated with the app has been restricted or disabled "
        "for violating a platform policy.",
    ),
}


def error_body(code: int) -> dict[str, Any]:
    title, details = ERRORS[code]
    return {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "A7Zk0Qw9v3R2yT0UuVb1c2d",
        }
    }


def number_fields() -> dict[str, Any]:
    """GET /{phone-number-id}?fields=display_phone_number,verified_name,quality_rating,
    messaging_limit_tier. Source: {DOCS}/reference/whatsapp-business-account/phone-number-api."""
    return {
        "display_phone_number": "+31 20 123 4567",
        "verified_name": "Webwinkel Zuid",
        "quality_rating": "GREEN",
        "messaging_limit_tier": "TIER_1K",
        "id": PHONE_NUMBER_ID,
    }


def media_fields(media_id: str) -> dict[str, Any]:
    """GET /{media-id}. Source: {DOCS}/reference/media/media-api (Retrieve media URL)."""
    return {
        "messaging_product": "whatsapp",
        "url": f"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid={media_id}&ext=1750271234&hash=ATtq",
        "mime_type": "image/jpeg",
        "sha256": "bkTFJ8Gk0Yo8Z4T2bHIAoU6pSMFuSgGUlVw5E0zJyVk=",
        "file_size": "303833",
        "id": media_id,
    }


def templates_page() -> dict[str, Any]:
    """GET /{waba-id}/message_templates. Source: {DOCS}/reference/whatsapp-business-account/
    template-api (Get templates)."""
    return {
        "data": [
            {
                "name": "order_shipped",
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    {
                        "type": "BODY",
                        "text": "Hallo {{1}}, je bestelling is verzonden en komt {{2}}.",
                        "example": {"body_text": [["Sanne", "morgen"]]},
                    },
                    {"type": "FOOTER", "text": "Webwinkel Zuid"},
                ],
                "language": "nl",
                "status": "APPROVED",
                "category": "UTILITY",
                "id": "1271036137256091",
            },
            {
                "name": "order_shipped",
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    {"type": "BODY", "text": "Hi {{1}}, your order shipped and arrives {{2}}."},
                ],
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "id": "1271036137256092",
            },
            {
                "name": "winter_sale",
                "components": [{"type": "BODY", "text": "Winteruitverkoop!"}],
                "language": "nl",
                "status": "REJECTED",
                "category": "MARKETING",
                "id": "1271036137256093",
            },
        ],
        "paging": {"cursors": {"before": "MAZDZD", "after": "MgZDZD"}},
    }


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"HTTP_X_HUB_SIGNATURE_256": signature_for(body, secret)}


def deliver(client, payload: dict[str, Any], *, secret: str = APP_SECRET):
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/whatsapp/", data=body, content_type="application/json", **signed(body, secret)
    )
