"""The WhatsApp Cloud API through the Graph client the other Meta connectors use.

Calls, timeouts and the Graph error policy are ``channels.facebook.client``'s (facebook-sdk
underneath, see there); this module adds only what WhatsApp's own error codes mean for a
send. Sources for every code: docs/channels/whatsapp.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import facebook
from django.utils import timezone

from channels.payload import child

from ..base import (
    AccountRestricted,
    AuthError,
    RateLimited,
    RecipientRateLimited,
    RecipientRefused,
    TemporaryError,
)
from ..facebook import client as graph_client
from ..facebook.client import graph_api  # noqa: F401 - the connector builds its Graph from here

# Cloud API throughput reached for the business phone number: every send of the number pauses.
THROUGHPUT_REACHED = 130429
# Too many messages from this number to this one recipient in a short time (the pair rate limit).
PAIR_RATE_LIMIT = 131056
# More than 24 hours since the customer last wrote: only a template may be sent.
RE_ENGAGEMENT = 131047
# Undeliverable (not a WhatsApp user, old app, not accepted the terms, …).
UNDELIVERABLE = 131026
# A message type the recipient or the API does not support.
UNSUPPORTED_TYPE = 131051
# The account is restricted for policy violations.
RESTRICTED = 368
ACCESS_TOKEN = 190

# How long to pause after a rate limit when Meta names no time: the throughput limit is per
# second, the pair limit about one message every six seconds (docs/channels/whatsapp.md).
THROUGHPUT_PAUSE = dt.timedelta(seconds=2)
PAIR_PAUSE = dt.timedelta(seconds=6)

EXPLAINED = {
    RE_ENGAGEMENT: (
        "Outside WhatsApp's 24-hour customer service window: the customer last wrote more than "
        "24 hours ago, so only an approved template can be sent."
    ),
    UNDELIVERABLE: (
        "WhatsApp could not deliver this message: the number may not be on WhatsApp, or the "
        "customer's app is too old or has not accepted the current terms."
    ),
    UNSUPPORTED_TYPE: "WhatsApp does not support this message type for this recipient.",
    RESTRICTED: (
        "Meta has restricted this WhatsApp Business account for policy violations; no message "
        "can be sent until the restriction ends (see the account's quality in WhatsApp Manager)."
    ),
}


def error_text(code: Any, title: str = "", details: str = "") -> str:
    """What an agent and an admin read for a WhatsApp error code: our words, then Meta's."""
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = None
    meta = f"WhatsApp error {code}" if code is not None else "WhatsApp error"
    said = " — ".join(part for part in (title, details) if part)
    ours = EXPLAINED.get(code, "")
    return f"{ours} [{meta}: {said}]" if ours else f"{meta}: {said or 'no reason given'}"


def translate(exc: facebook.GraphAPIError, *, sending: bool = False) -> Exception:
    """WhatsApp's codes first; everything else as the other Meta connectors treat it."""
    info = graph_client.error_details(exc)
    code = info["code"]
    result = exc.result if isinstance(exc.result, dict) else {}
    error = child(result, "error")
    data = child(error, "error_data")
    details = str(data.get("details") or "")
    text = error_text(code, info["message"], details)
    now = timezone.now()
    if code == THROUGHPUT_REACHED:
        return RateLimited(text, until=now + THROUGHPUT_PAUSE, code=code)
    if code == PAIR_RATE_LIMIT:
        return RecipientRateLimited(text, until=now + PAIR_PAUSE, code=code)
    if code in (RE_ENGAGEMENT, UNDELIVERABLE, UNSUPPORTED_TYPE):
        return RecipientRefused(text, code=code)
    if code == RESTRICTED:
        return AccountRestricted(text, code=code)
    if code == ACCESS_TOKEN:
        return AuthError(f"Reconnect the WhatsApp number: {text}", code=code)
    translated = graph_client.translate(exc, sending=sending)
    if isinstance(translated, TemporaryError) and code is None:
        return TemporaryError(translated.message.replace("Facebook", "Meta"))
    return translated


def get(graph: facebook.GraphAPI, path: str, **args: Any) -> dict[str, Any]:
    return graph_client.get(graph, path, translator=translate, **args)


def post(graph: facebook.GraphAPI, path: str, *, files: Any = None, **data: Any) -> dict[str, Any]:
    return graph_client.post(graph, path, translator=translate, files=files, **data)
