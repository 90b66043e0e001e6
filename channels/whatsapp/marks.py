"""The thread's receipt marks of our WhatsApp messages: ✓ sent, ✓✓ delivered, ✓✓ read."""

from __future__ import annotations

from django.utils.translation import gettext as _


def receipt_marks(ticket, messages) -> dict[str, tuple[str, str]]:
    """wamid -> (status, label) for the outbound messages of a WhatsApp ticket; {} otherwise."""
    if getattr(ticket.channel, "platform", "") != "whatsapp":
        return {}
    wamids = [m.external_id for m in messages if m.direction == "out" and m.external_id]
    if not wamids:
        return {}
    from .models import WhatsAppMessageStatus

    labels = {
        "sent": "✓ " + _("sent"),
        "delivered": "✓✓ " + _("delivered"),
        "read": "✓✓ " + _("read"),
        "failed": "✗ " + _("not delivered"),
    }
    found = WhatsAppMessageStatus.objects.filter(
        channel_id=ticket.channel_id, wamid__in=wamids
    ).values_list("wamid", "status", "error_text")
    marks = {}
    for wamid, status, error in found:
        label = labels.get(status, status)
        marks[wamid] = (status, f"{label}: {error}" if error else label)
    return marks
