"""WhatsApp Business (Cloud API): one business phone number of a WhatsApp Business Account.

Messages arrive by webhook only (``webhooks.WhatsAppIntake``); the channel's "poll" runs once a
day and reads the number's display name, quality rating and messaging limit tier, so health
keeps showing them. Replies go to ``POST /{phone-number-id}/messages``, free-form inside the
24-hour customer service window and as an approved template outside it, at the number's rate
(``throughput``). Facts and sources: docs/channels/whatsapp.md.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext as _

from ..base import (
    AuthError,
    ConnectionInfo,
    Connector,
    FetchResult,
    InboundAttachment,
    MediaRequest,
    OutboundAttachment,
    OutboundReply,
    PermanentError,
    RateLimited,
    RecipientRateLimited,
    ReplyWindow,
    SendResult,
)
from ..registry import register
from . import client, tasks, throughput  # noqa: F401 - tasks: registers the Celery tasks
from .webhooks import WhatsAppIntake

SERVICE_WINDOW = dt.timedelta(hours=24)
DEFAULT_RATE = 80  # messages per second of a Cloud API number (docs/channels/whatsapp.md)
NUMBER_FIELDS = "display_phone_number,verified_name,quality_rating,messaging_limit_tier"
UPLOAD_KINDS = {"image": "image", "video": "video", "audio": "audio", "file": "document"}
MB = 1024 * 1024


class WhatsAppConnector(Connector):
    kind = "whatsapp"
    label = "WhatsApp"
    short_label = "WhatsApp"
    icon = "✆"
    colour = "#15803d"
    platform = "whatsapp"
    reply_modes = ("dm",)
    text_limit = 4096
    ticket_kinds = ("dm",)
    # Webhooks bring every message; the daily "poll" only reads the number's standing.
    default_poll_interval = 24 * 60 * 60
    credential_fields: ClassVar[dict[str, str]] = {
        "access_token": (
            "A system-user access token of the Business with whatsapp_business_messaging and "
            "whatsapp_business_management on this WhatsApp Business Account."
        ),
        "app_secret": "The Meta app's secret: webhook bodies are signed with it.",
        "verify_token": "The webhook verify token you entered in the Meta app's WhatsApp setup.",
    }
    settings_fields: ClassVar[dict[str, str]] = {
        "waba_id": "WhatsApp Business Account id (its templates are synchronised from it).",
        "phone_number_id": "Phone number id of the business number (not the number itself).",
        "messages_per_second": (
            "Sending rate of this number: 80 by default; Meta raises it for some numbers."
        ),
        "read_receipts": "Mark the customer's messages read when an agent opens the thread.",
        "incident_template": (
            'Name of the approved template an incident\'s "answer all" sends to customers '
            "outside the 24-hour window (body: the answer, or the customer's name and the answer)."
        ),
    }
    settings_types: ClassVar[dict[str, str]] = {
        "messages_per_second": "int",
        "read_receipts": "bool",
    }
    settings_defaults: ClassVar[dict[str, Any]] = {
        "messages_per_second": DEFAULT_RATE,
        "read_receipts": True,
    }
    # Media URLs from GET /{media-id} point at Meta's CDN and need the token.
    media_hosts: ClassVar[tuple[str, ...]] = ("lookaside.fbsbx.com", "*.fbsbx.com", "*.fbcdn.net")
    # Cloud API media limits: image 5 MB, video and audio 16 MB, document 100 MB.
    attachment_limits: ClassVar[dict[str, int]] = {
        "image": 5 * MB,
        "video": 16 * MB,
        "audio": 16 * MB,
        "file": 100 * MB,
    }
    webhook: ClassVar[WhatsAppIntake | None] = WhatsAppIntake()

    # --- configuration ----------------------------------------------------------------------
    @property
    def phone_number_id(self) -> str:
        return str(self.channel.settings.get("phone_number_id") or self.channel.own_account_id)

    @property
    def rate(self) -> int:
        try:
            return max(1, int(self.channel.settings.get("messages_per_second") or DEFAULT_RATE))
        except (TypeError, ValueError):
            return DEFAULT_RATE

    @property
    def token(self) -> str:
        token = self.channel.credentials.get("access_token", "")
        if not token:
            raise AuthError("No access token is configured for this WhatsApp number.")
        return token

    @cached_property
    def graph(self):
        return client.graph_api(self.token)

    def _number(self) -> str:
        if not self.phone_number_id:
            raise PermanentError("The channel has no phone number id (settings: phone_number_id).")
        return self.phone_number_id

    # --- reading ----------------------------------------------------------------------------
    def number_standing(self) -> dict[str, str]:
        """The number's display name, quality rating and messaging limit tier."""
        found = client.get(self.graph, self._number(), fields=NUMBER_FIELDS)
        return {key: str(found.get(key) or "") for key in NUMBER_FIELDS.split(",")}

    def test_connection(self) -> ConnectionInfo:
        standing = self.number_standing()
        return ConnectionInfo(
            account_id=self.phone_number_id,
            handle=standing["display_phone_number"],
            display_name=standing["verified_name"],
            detail=standing_text(standing),
        )

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        # Nothing to fetch (webhooks bring messages): the daily check of the number's standing.
        standing = self.number_standing()
        return FetchResult(
            items=[],
            cursor={**cursor, "number": standing, "checked_at": timezone.now().isoformat()},
        )

    def templates(self) -> list[dict[str, Any]]:
        """Every message template of the WhatsApp Business Account."""
        waba = str(self.channel.settings.get("waba_id") or "")
        if not waba:
            raise PermanentError("The channel has no WhatsApp Business Account id (waba_id).")
        found: list[dict[str, Any]] = []
        after = ""
        for _page in range(50):
            args = {"fields": "id,name,language,category,status,components", "limit": 100}
            if after:
                args["after"] = after
            page = client.get(self.graph, f"{waba}/message_templates", **args)
            found.extend(t for t in page.get("data") or [] if isinstance(t, dict))
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after") or ""
            if not paging.get("next") or not after:
                break
        return found

    def media_request(self, attachment: InboundAttachment) -> MediaRequest:
        """``GET /{media-id}`` gives a short-lived URL; downloading it needs the token too."""
        if not attachment.media_id:
            return super().media_request(attachment)
        found = client.get(self.graph, attachment.media_id)
        url = str(found.get("url") or "")
        if not url:
            raise PermanentError("WhatsApp no longer has this media (media id without a URL).")
        return MediaRequest(url=url, headers={"Authorization": f"Bearer {self.token}"})

    # --- replying ---------------------------------------------------------------------------
    def reply_window(self, *, ticket_kind: str, last_inbound_at: dt.datetime | None) -> ReplyWindow:
        if last_inbound_at is None:
            return ReplyWindow(
                allowed=False,
                reason=_(
                    "The customer has not written on WhatsApp yet: send an approved template."
                ),
            )
        closes = last_inbound_at + SERVICE_WINDOW
        if timezone.now() >= closes:
            return ReplyWindow(
                allowed=False,
                reason=_(
                    "More than 24 hours since the customer's last WhatsApp message: WhatsApp "
                    "only takes an approved template until they write again."
                ),
                closes_at=closes,
            )
        return ReplyWindow(allowed=True, closes_at=closes)

    def send(self, reply: OutboundReply) -> SendResult:
        to = reply.recipient_id or reply.thread_key.removeprefix("wa:")
        if not to:
            raise PermanentError("No WhatsApp number to send to.")
        template = reply.options.get("template")
        bodies: list[dict[str, Any]] = []
        if template:
            bodies.append({"type": "template", "template": template_payload(template)})
        else:
            caption_used = False
            for attachment in reply.attachments:
                media = self._upload(attachment)
                kind = UPLOAD_KINDS.get(attachment.kind, "document")
                body: dict[str, Any] = {"id": media}
                if kind == "document":
                    body["filename"] = attachment.name
                if kind != "audio" and reply.text and not caption_used:
                    body["caption"] = reply.text  # audio takes no caption: sent as text below
                    caption_used = True
                bodies.append({"type": kind, kind: body})
            if reply.text and not caption_used:
                bodies.append({"type": "text", "text": {"body": reply.text, "preview_url": False}})
        if not bodies:
            raise PermanentError("Nothing to send: the reply has no text, file or template.")
        ids = [self._post_message(to, body) for body in bodies]
        return SendResult(external_id=ids[0], raw={"wamids": ids})

    def send_batch_size(self) -> int:
        # About a second of the number's rate: the batch's sends fill the rate counter's slots
        # concurrently, and a worker lost mid-batch leaves at most a second's replies to resume.
        return min(self.rate, 500)

    def _post_message(self, to: str, body: dict[str, Any]) -> str:
        number = self._number()
        throughput.acquire(number, self.rate)
        try:
            answer = client.post(
                self.graph,
                f"{number}/messages",
                messaging_product="whatsapp",
                recipient_type="individual",
                to=to,
                **body,
            )
        except RecipientRateLimited:
            raise
        except RateLimited as exc:
            # 130429: the whole number is at its limit; every worker pauses, not just this one.
            throughput.pause(number, exc.until or timezone.now() + client.THROUGHPUT_PAUSE)
            raise
        messages = answer.get("messages") or []
        wamid = str(messages[0].get("id") or "") if messages else ""
        if not wamid:
            raise PermanentError(f"WhatsApp accepted the message but gave no id: {answer!r}")
        return wamid

    def _upload(self, attachment: OutboundAttachment) -> str:
        limit = self.attachment_limits.get(attachment.kind)
        if limit is None or attachment.size > limit:
            raise PermanentError(
                f"WhatsApp does not take {attachment.name} ({attachment.kind}, "
                f"{attachment.size} bytes)."
            )
        with attachment.open() as handle:
            answer = client.post(
                self.graph,
                f"{self._number()}/media",
                files={"file": (attachment.name, handle, attachment.mime_type)},
                messaging_product="whatsapp",
                type=attachment.mime_type,
            )
        media = str(answer.get("id") or "")
        if not media:
            raise PermanentError(f"WhatsApp gave no media id for {attachment.name}.")
        return media

    def mark_read(self, wamid: str) -> None:
        """Tell the customer their message was read (the blue ticks)."""
        client.post(
            self.graph,
            f"{self._number()}/messages",
            messaging_product="whatsapp",
            status="read",
            message_id=wamid,
        )


def template_payload(template: dict[str, Any]) -> dict[str, Any]:
    """Our stored choice ({name, language, body: [values], header: [values]}) as the Cloud
    API's ``template`` object."""
    components = []
    for part in ("header", "body"):
        values = template.get(part) or []
        if values:
            components.append(
                {"type": part, "parameters": [{"type": "text", "text": str(v)} for v in values]}
            )
    payload: dict[str, Any] = {
        "name": template["name"],
        "language": {"code": template["language"]},
    }
    if components:
        payload["components"] = components
    return payload


def standing_text(standing: dict[str, str]) -> str:
    return (
        f"{standing.get('verified_name') or '?'} ({standing.get('display_phone_number') or '?'}): "
        f"quality {standing.get('quality_rating') or 'unknown'}, "
        f"messaging limit {standing.get('messaging_limit_tier') or 'unknown'}"
    )


register(WhatsAppConnector)
