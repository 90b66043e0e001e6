"""What WhatsApp webhooks and agents change: messages in, statuses, opt-outs, templates.

Everything here is keyword-only and safe to run twice (a webhook delivery retried after a
crash): ingest dedupes messages on the wamid, statuses only move forward, and an opt-out is the
latest word of the customer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import health
from ..models import Channel
from . import normalize
from .client import RESTRICTED, error_text
from .models import STATUS_RANK, WhatsAppContact, WhatsAppMessageStatus, WhatsAppTemplate
from .webhooks import channel_number
from .window import TemplateRefused, opted_out, template_form, template_preview

log = logging.getLogger(__name__)


# --- webhook bodies ---------------------------------------------------------------------------
def webhook_process(payload: dict[str, Any], *, channel_ids: list[int]) -> str:
    """Store one verified WhatsApp delivery for the channels it was routed to. One channel's
    failure does not stop the others; it is raised at the end so the delivery is retried."""
    from inbox.ingest.entry import ingest_batch

    channels = {_number_of(c): c for c in Channel.objects.filter(pk__in=channel_ids)}
    stored = statuses = 0
    failure: Exception | None = None
    for value in normalize.values(payload):
        found = normalize.value_result(value)
        channel = channels.get(found.phone_number_id)
        if channel is None:
            continue
        try:
            if found.items:
                stored += ingest_batch(channel_id=channel.pk, items=found.items).created
            for wa_id, consents in found.consent.items():
                consent_record(channel_id=channel.pk, wa_id=wa_id, consents=consents)
            for status in found.statuses:
                statuses += status_apply(channel_id=channel.pk, status=status)
            for error in found.errors:
                if error.code == RESTRICTED:
                    health.record_policy_enforcement(channel.pk, "block", error.text)
                else:
                    health.record_warning(channel.pk, error.text)
        except Exception as exc:  # noqa: BLE001 - one channel must not block the others
            log.exception("WhatsApp webhook: channel %s failed", channel.pk)
            failure = exc
    if failure is not None:
        raise failure
    return f"stored {stored}, statuses {statuses}"


def _number_of(channel: Channel) -> str:
    """The phone number id a channel's connector answers for (the demo's is built in)."""
    return getattr(channel.connector_class, "demo_number", "") or channel_number(channel)


# --- statuses ---------------------------------------------------------------------------------
def status_apply(*, channel_id: int, status: normalize.Status) -> int:
    """Record Meta's status of one of our messages, never moving it backwards; returns 1 when
    it changed what the agent sees."""
    from inbox.models import DeliveryState, Direction, Message

    rank = STATUS_RANK[status.status]
    failed = status.status == "failed"
    text = error_text(status.error_code, status.error_title, status.error_detail) if failed else ""
    fields = {
        "status": status.status,
        "rank": rank,
        "status_at": status.at,
        "recipient_id": status.recipient_id,
        "error_code": status.error_code if failed else None,
        "error_text": text,
        "updated_at": timezone.now(),
    }
    if status.pricing_category:
        fields["pricing_category"] = status.pricing_category
    try:
        with transaction.atomic():
            WhatsAppMessageStatus.objects.create(
                channel_id=channel_id, wamid=status.wamid, **fields
            )
        changed = 1
    except IntegrityError:
        changed = WhatsAppMessageStatus.objects.filter(
            channel_id=channel_id, wamid=status.wamid, rank__lt=rank
        ).update(**fields)
    if not changed:
        return 0
    outbound = Message.objects.filter(
        channel_id=channel_id, external_id=status.wamid, direction=Direction.OUTBOUND
    )
    if failed:
        outbound.filter(delivery_state=DeliveryState.SENT).update(
            delivery_state=DeliveryState.FAILED,
            delivery_changed_at=timezone.now(),
            failure_reason=text,
        )
    else:
        # Delivered or read after a "failed" (another device): it arrived after all.
        outbound.filter(delivery_state=DeliveryState.FAILED).update(
            delivery_state=DeliveryState.SENT, failure_reason=""
        )
    return 1


def message_marks(*, channel_id: int, wamids: list[str]) -> dict[str, WhatsAppMessageStatus]:
    """wamid -> its latest status, for the thread's sent/delivered/read marks."""
    found = WhatsAppMessageStatus.objects.filter(channel_id=channel_id, wamid__in=wamids)
    return {s.wamid: s for s in found}


# --- opt-out ----------------------------------------------------------------------------------
def consent_record(*, channel_id: int, wa_id: str, consents: bool) -> None:
    """The customer wrote: an opt-out word marks them opted out; anything else ends it."""
    now = timezone.now()
    contact, _ = WhatsAppContact.objects.get_or_create(channel_id=channel_id, wa_id=wa_id)
    if consents and contact.opted_out_at is not None:
        WhatsAppContact.objects.filter(pk=contact.pk).update(opted_out_at=None, updated_at=now)
    elif not consents:
        WhatsAppContact.objects.filter(pk=contact.pk).update(opted_out_at=now, updated_at=now)


def opted_out_contacts() -> list[WhatsAppContact]:
    """Every opted-out customer, newest first: the lead's list."""
    return list(
        WhatsAppContact.objects.filter(opted_out_at__isnull=False)
        .select_related("channel")
        .order_by("-opted_out_at")
    )


# --- templates --------------------------------------------------------------------------------
def templates_sync(*, channel: Channel) -> int:
    """Replace the channel's templates by the WhatsApp Business Account's current ones."""
    found = channel.connector().templates()
    now = timezone.now()
    keep: list[int] = []
    with transaction.atomic():
        for template in found:
            name, language = str(template.get("name") or ""), str(template.get("language") or "")
            if not name or not language:
                continue
            row, _ = WhatsAppTemplate.objects.update_or_create(
                channel=channel,
                name=name,
                language=language,
                defaults={
                    "template_id": str(template.get("id") or ""),
                    "category": str(template.get("category") or ""),
                    "status": str(template.get("status") or ""),
                    "components": template.get("components") or [],
                    "synced_at": now,
                },
            )
            keep.append(row.pk)
        WhatsAppTemplate.objects.filter(channel=channel).exclude(pk__in=keep).delete()
    return len(keep)


def template_send(*, ticket_id: int, user, template_id: int, header: list[str], body: list[str]):
    """Queue an approved template to the ticket's customer (outside the window, or anytime)."""
    from inbox.ingest.entry import reply_queue
    from inbox.models import Ticket

    ticket = Ticket.objects.select_related("channel").get(pk=ticket_id)
    if ticket.channel.platform != "whatsapp":
        raise TemplateRefused("Templates are sent on WhatsApp tickets only.")
    wa_id = ticket.thread_key.removeprefix("wa:")
    if opted_out(channel_id=ticket.channel_id, wa_id=wa_id):
        raise TemplateRefused(
            "The customer opted out (they wrote STOP): no template until they write again."
        )
    template = WhatsAppTemplate.objects.filter(
        pk=template_id, channel_id=ticket.channel_id, status="APPROVED"
    ).first()
    if template is None:
        raise TemplateRefused("That template is not approved for this number.")
    form = template_form(template)
    header, body = header[: form.header_slots], body[: form.body_slots]
    if (
        len([v for v in header if v.strip()]) < form.header_slots
        or len([v for v in body if v.strip()]) < form.body_slots
    ):
        raise TemplateRefused("Fill in every variable of the template.")
    return reply_queue(
        ticket=ticket,
        author=user,
        text=template_preview(form, header=header, body=body),
        mode="dm",
        options={
            "template": {
                "name": template.name,
                "language": template.language,
                "header": header,
                "body": body,
            },
            "pricing_category": template.category,
        },
    )
