"""``/webhooks/whatsapp/``: WhatsApp Business Account webhooks (field ``messages``).

Each channel carries its own app secret and verify token, so one Webcare can serve numbers of
several Meta apps. The signature is checked before anything is parsed: the raw body is tried
against every WhatsApp channel's app secret, and the channels whose secret signed it are what
``route`` may deliver to, and only those whose phone number id the body names
(``metadata.phone_number_id``). A body signed with one app's secret can never reach a number
of another app.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ..intake import Ignored, WebhookIntake
from ..meta.signature import SIGNATURE_HEADER, handshake, signature_ok

log = logging.getLogger(__name__)


def whatsapp_channels():
    from ..models import Channel

    return Channel.objects.filter(kind="whatsapp")


def _credentials(channel) -> dict[str, Any]:
    try:
        credentials = channel.context().credentials
    except Exception:  # noqa: BLE001 - undecryptable credentials: this channel cannot match
        return {}
    return credentials


def channel_number(channel) -> str:
    return str((channel.settings or {}).get("phone_number_id") or channel.own_account_id or "")


class WhatsAppIntake(WebhookIntake):
    name = "whatsapp"

    def handshake(self, request: HttpRequest) -> HttpResponse:
        tokens = [str(_credentials(c).get("verify_token") or "") for c in whatsapp_channels()]
        return handshake(request, [*tokens, getattr(settings, "META_WEBHOOK_VERIFY_TOKEN", "")])

    def verify(self, request: HttpRequest, body: bytes) -> frozenset[int]:
        header = request.headers.get(SIGNATURE_HEADER, "")
        fallback = getattr(settings, "META_APP_SECRET", "")
        return frozenset(
            channel.pk
            for channel in whatsapp_channels()
            if signature_ok(body, header, _credentials(channel).get("app_secret") or fallback)
        )

    def route(self, payload: dict[str, Any], verified: frozenset[int]) -> list[int]:
        from . import normalize

        if payload.get("object") != "whatsapp_business_account":
            raise Ignored()
        numbers = {normalize.phone_number_id(v) for v in normalize.values(payload)}
        return sorted(
            c.pk
            for c in whatsapp_channels().filter(pk__in=verified)
            if channel_number(c) in numbers
        )

    def process(self, payload: dict[str, Any], *, channel_ids: list[int]) -> str:
        from .services import webhook_process

        return webhook_process(payload, channel_ids=channel_ids)
