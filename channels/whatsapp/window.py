"""The 24-hour window and message templates: what the inbox asks of WhatsApp.

The incident answer (``incident_reply``: free-form inside the window, else the channel's incident
template), the report's inside/outside counts (``window_counts``), and the template forms the
composer fills. Reads only: this module imports nothing that calls the inbox, so the inbox may
import it (``.importlinter``, "no inbox <-> channels cycle"); storing webhooks and sending
templates stay in ``channels.whatsapp.services``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import registry
from .models import WhatsAppContact, WhatsAppTemplate


# --- opt-out ----------------------------------------------------------------------------------
def opted_out(*, channel_id: int, wa_id: str) -> bool:
    return WhatsAppContact.objects.filter(
        channel_id=channel_id, wa_id=wa_id, opted_out_at__isnull=False
    ).exists()


# --- templates --------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class TemplateForm:
    template: WhatsAppTemplate
    header: str
    body: str
    footer: str
    header_slots: int
    body_slots: int


def template_form(template: WhatsAppTemplate) -> TemplateForm:
    parts = {str(c.get("type", "")).upper(): c for c in template.components if isinstance(c, dict)}
    header = parts.get("HEADER", {})
    header_text = str(header.get("text") or "") if header.get("format", "TEXT") == "TEXT" else ""
    body = str(parts.get("BODY", {}).get("text") or "")
    return TemplateForm(
        template=template,
        header=header_text,
        body=body,
        footer=str(parts.get("FOOTER", {}).get("text") or ""),
        header_slots=len(set(PLACEHOLDER.findall(header_text))),
        body_slots=len(set(PLACEHOLDER.findall(body))),
    )


def fill(text: str, values: list[str]) -> str:
    def one(match: re.Match) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) and values[index] else match.group(0)

    return PLACEHOLDER.sub(one, text)


def template_preview(form: TemplateForm, *, header: list[str], body: list[str]) -> str:
    parts = [fill(form.header, header), fill(form.body, body), form.footer]
    return "\n".join(p for p in parts if p)


def templates_for(*, channel_id: int, language: str) -> list[WhatsAppTemplate]:
    """The approved templates, one per name: in the customer's language where one exists."""
    approved = WhatsAppTemplate.objects.filter(channel_id=channel_id, status="APPROVED")
    chosen: dict[str, WhatsAppTemplate] = {}
    wanted = (language or "").lower()
    for template in approved.order_by("name", "language"):
        code = template.language.lower()
        current = chosen.get(template.name)
        if current is None or (
            wanted
            and code.split("_")[0] == wanted
            and current.language.lower().split("_")[0] != wanted
        ):
            chosen[template.name] = template
    return list(chosen.values())


class TemplateRefused(Exception):
    pass


# --- window -----------------------------------------------------------------------------------
def window_counts(*, messages) -> dict[str, int]:
    """Answered inside or outside the customer service window, for reports: a template reply
    is outside it, a free-form one inside."""
    kinds = [
        k for k, _label in registry.kinds() if registry.connector_class(k).platform == "whatsapp"
    ]
    sent = messages.filter(channel__kind__in=kinds, direction="out", delivery_state="sent")
    outside = sent.filter(send_options__has_key="template")
    total = sent.count()
    out = outside.count()
    return {"inside": total - out, "outside": out}


# --- incidents --------------------------------------------------------------------------------
def incident_reply(*, ticket, text: str) -> tuple[dict[str, Any], str] | None:
    """How an incident's "answer all" reaches a WhatsApp customer: free-form inside the
    24-hour window; outside it, the channel's incident template (setting ``incident_template``,
    in the customer's language where one exists) with the customer's name as its first
    variable and the answer as its last. None: the customer opted out, nothing is sent.
    Raises :class:`TemplateRefused` when a template is needed and none is approved."""
    connector = ticket.channel.connector()
    window = connector.reply_window(ticket_kind=ticket.kind, last_inbound_at=ticket.last_inbound_at)
    if window.allowed:
        return {}, text
    if opted_out(channel_id=ticket.channel_id, wa_id=ticket.thread_key.removeprefix("wa:")):
        return None
    name = str((ticket.channel.settings or {}).get("incident_template") or "")
    chosen = [
        t
        for t in templates_for(channel_id=ticket.channel_id, language=ticket.language)
        if t.name == name
    ]
    if not name or not chosen:
        raise TemplateRefused(
            "outside WhatsApp's 24-hour window and the channel has no approved incident "
            "template (channel setting incident_template)"
        )
    form = template_form(chosen[0])
    if form.body_slots not in (1, 2) or form.header_slots:
        raise TemplateRefused(
            f"the incident template {name} must have one body variable (the answer) or two "
            "(the customer's name, then the answer), and none in its header"
        )
    # Meta refuses new lines and tabs inside a variable: the answer becomes one paragraph.
    answer = " ".join(text.split())
    person = getattr(ticket.identity, "display_name", "") or str(ticket.customer or "")
    body = [answer] if form.body_slots == 1 else [person or "-", answer]
    header: list[str] = []
    return (
        {
            "template": {
                "name": form.template.name,
                "language": form.template.language,
                "header": header,
                "body": body,
            },
            "pricing_category": form.template.category,
        },
        template_preview(form, header=header, body=body),
    )
