"""``/webhooks/facebook/`` and ``/webhooks/messenger/``: one Meta app, one intake.

A Meta app has one callback URL per object ("page"); both the ``feed`` and ``messages`` fields
arrive there. Either URL may be configured; both run this code, and a body is one delivery
whichever URL it came to (the intake's name is "facebook" for both).

- GET is the subscription handshake (``channels.meta.signature``): echo ``hub.challenge``
  when ``hub.mode`` is "subscribe" and
  ``hub.verify_token`` equals META_WEBHOOK_VERIFY_TOKEN (Django keeps the dots in GET keys).
  The echo is not signed; it is text/plain and only a short token is echoed.
- POST must carry ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with
  META_APP_SECRET>``, compared in constant time before the body is parsed. A verified body is
  stored (``channels.intake``) and answered 200 at once; a task ingests it. Meta retries slow or
  failed deliveries: the stored copy answers those without storing anything twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ..intake import Ignored, Refused, WebhookIntake
from ..meta.signature import (  # noqa: F401 - re-exported: the Facebook tests and tools use them
    CHALLENGE,
    SIGNATURE_HEADER,
    signature_for,
    signature_ok,
)
from ..meta.signature import handshake as meta_handshake

log = logging.getLogger(__name__)


class MetaIntake(WebhookIntake):
    """A Meta app's webhook: the handshake and the ``X-Hub-Signature-256`` check.

    ``secret_settings`` names the settings holding the app secret that signs the bodies, first
    one set wins (an Instagram Login app signs with its own Instagram app secret:
    ``channels.instagram.webhooks``)."""

    name = "facebook"
    secret_settings: tuple[str, ...] = ("META_APP_SECRET",)

    def handshake(self, request: HttpRequest) -> HttpResponse:
        return _handshake(request)

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        secret = next((s for n in self.secret_settings if (s := getattr(settings, n, ""))), "")
        if not secret:
            log.error("%s webhook refused: %s is not set", self.name, self.secret_settings[0])
            raise Refused(403, "webhook not configured")
        return signature_ok(body, request.headers.get(SIGNATURE_HEADER, ""), secret)

    def route(self, payload: dict[str, Any], verified: bool) -> list[int]:
        if payload.get("object") != "page":
            # Signed by Meta but not for a Page (e.g. "instagram", "user"): nothing for us.
            raise Ignored()
        from .tokens import channels_for_page

        return [c.pk for page in entry_ids(payload) for c in channels_for_page(page)]

    def process(self, payload: dict[str, Any], *, channel_ids: list[int]) -> str:
        # Channels are found again per entry: a Page connected after receipt still gets it.
        from .tasks import process_webhook

        return process_webhook(payload)


def entry_ids(payload: dict[str, Any]) -> list[str]:
    """The account ids (Page or Instagram account) a Meta delivery's entries are for."""
    entries = payload.get("entry")
    return sorted(
        {
            str(e["id"])
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("id"), str | int) and e.get("id")
        }
    )


def _handshake(request: HttpRequest) -> HttpResponse:
    return meta_handshake(request, [getattr(settings, "META_WEBHOOK_VERIFY_TOKEN", "")])
