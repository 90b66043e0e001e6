"""Incidents: declare a known fault, link its tickets, and answer them all at once.

Resolving answers every linked ticket with one template, personalised per customer
(``{name}``, ``{first_name}``, ``{handle}``), through ``inbox.replies.services.reply_queue`` on the
ticket's own channel, and closes the ticket. Exactly once per ticket: the link row is locked and
records the reply it queued in the same transaction, so resolving twice, or two leads clicking at
once, queues nothing more for a ticket that already has its reply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inbox.audit.services import activity_log
from inbox.core.business_time import Calendars
from inbox.engines.assignment import assignment_request
from inbox.models import (
    AgentProfile,
    Incident,
    IncidentStatus,
    IncidentTicket,
    Ticket,
    TicketKind,
    in_language,
)
from inbox.replies.services import reply_queue, reply_text
from inbox.tickets.services import ticket_close

PLACEHOLDERS = ("{name}", "{first_name}", "{handle}")


def incident_declare(
    *,
    actor: User | None,
    title: str,
    description: str = "",
    public_note: str = "",
    reply_template: str = "",
    reply_translations: dict[str, str] | None = None,
) -> Incident:
    if not title.strip():
        raise ValidationError({"title": "An incident needs a title."})
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title.strip(),
            description=description,
            public_note=public_note,
            reply_template=reply_template,
            reply_translations=_translations(reply_translations),
            declared_by=actor if actor is not None and actor.is_authenticated else None,
        )
        activity_log(
            ticket=None,
            actor=actor,
            verb="incident_declared",
            after={"incident": incident.pk, "title": incident.title},
        )
    return incident


def incident_update(
    *,
    incident: Incident,
    actor: User | None,
    **changes: Any,
) -> Incident:
    """Edit title, description, public status note, reply template or its translations."""
    allowed = {"title", "description", "public_note", "reply_template", "reply_translations"}
    if "reply_translations" in changes:
        changes["reply_translations"] = _translations(changes["reply_translations"])
    if set(changes) - allowed:
        raise TypeError(f"not editable: {', '.join(sorted(set(changes) - allowed))}")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        before = {k: getattr(incident, k) for k in changes}
        for key, value in changes.items():
            setattr(incident, key, value)
        incident.save(update_fields=list(changes))
        activity_log(
            ticket=None,
            actor=actor,
            verb="incident_updated",
            before={"incident": incident.pk, **before},
            after={"incident": incident.pk, **changes},
        )
    return incident


def incident_link(*, incident: Incident, tickets: Iterable[Ticket], actor: User | None) -> int:
    """Link tickets by hand; already linked ones stay as they are. Returns how many are new."""
    ids = [t.pk for t in tickets]
    with transaction.atomic():
        # Read under a lock: a resolution running now must not miss a ticket linked meanwhile.
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status != IncidentStatus.OPEN:
            raise ValidationError("Tickets can only be linked to an open incident.")
        existing = set(
            IncidentTicket.objects.filter(incident=incident, ticket_id__in=ids).values_list(
                "ticket_id", flat=True
            )
        )
        fresh = [pk for pk in dict.fromkeys(ids) if pk not in existing]
        IncidentTicket.objects.bulk_create(
            [
                IncidentTicket(
                    incident=incident,
                    ticket_id=pk,
                    linked_by=actor if actor is not None and actor.is_authenticated else None,
                )
                for pk in fresh
            ],
            ignore_conflicts=True,
        )
        # Open threads and lists notice the link through their polls (version, updated_at).
        Ticket.objects.filter(pk__in=fresh).update(
            version=F("version") + 1, updated_at=timezone.now()
        )
        for pk in fresh:
            activity_log(
                ticket=Ticket(pk=pk),
                actor=actor,
                verb="incident_linked",
                after={"incident": incident.pk},
            )
    return len(fresh)


def incident_unlink(*, incident: Incident, ticket: Ticket, actor: User | None) -> None:
    with transaction.atomic():
        deleted, _ = IncidentTicket.objects.filter(
            incident=incident, ticket=ticket, reply__isnull=True
        ).delete()
        if deleted:
            Ticket.objects.filter(pk=ticket.pk).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
            activity_log(
                ticket=ticket,
                actor=actor,
                verb="incident_unlinked",
                after={"incident": incident.pk},
            )


def _translations(raw: dict[str, str] | None) -> dict[str, str]:
    """Only the languages the product speaks, only those with a text."""
    known = dict(settings.LANGUAGES)
    return {k: v for k, v in (raw or {}).items() if k in known and isinstance(v, str) and v.strip()}


def answer_text(
    *, template: str, translations: dict | None, ticket: Ticket, signature: str = ""
) -> str:
    """What one customer gets: the answer in their language, personalised, signed like every
    other reply of the person who resolves."""
    chosen = in_language(template, translations, ticket.language)
    return reply_text(text=personalise(chosen, ticket), signature=signature)


def personalise(template: str, ticket: Ticket) -> str:
    identity = ticket.identity
    name = ""
    handle = ""
    if identity is not None:
        name = identity.display_name or identity.handle
        handle = f"@{identity.handle}" if identity.handle else ""
    if not name and ticket.customer is not None:
        name = ticket.customer.display_name
    values = {
        "{name}": name,
        "{first_name}": name.split()[0] if name.split() else "",
        "{handle}": handle,
    }
    text = template
    for key, value in values.items():
        text = text.replace(key, value)
    # "Hi {first_name}," with no name known reads "Hi ,": tidy the gap.
    return " ".join(text.replace(" ,", ",").split(" ")).strip()


def incident_resolve(
    *,
    incident: Incident,
    actor: User,
    template: str | None = None,
    public_note: str | None = None,
) -> list[int]:
    """Answer every linked ticket once with the template, close them, resolve the incident.

    Returns the ids of the replies queued now (tickets answered by an earlier, interrupted
    resolution are skipped). Sending happens after commit, one ``send_message`` task each.
    """
    template = incident.reply_template if template is None else template
    if not template.strip():
        raise ValidationError({"template": "Write the answer the customers will get."})
    now = timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        links = list(
            IncidentTicket.objects.select_for_update()
            .filter(incident=incident, reply__isnull=True)
            .order_by("pk")
        )
        tickets = {
            t.pk: t
            for t in Ticket.objects.filter(
                pk__in=[link.ticket_id for link in links]
            ).select_related("identity", "customer", "channel")
        }
        texts, plans = _answers_compose(incident, links, tickets, template, actor)
        queued = _answers_queue(incident, links, tickets, texts, plans, actor, now)
        # The closes freed capacity: let automatic teams hand out the next tickets.
        for team_id in {t.team_id for t in tickets.values() if t.team_id}:
            assignment_request(team_id=team_id)
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = now
        incident.resolved_by = actor if actor.is_authenticated else None
        incident.reply_template = template
        fields = ["status", "resolved_at", "resolved_by", "reply_template"]
        if public_note is not None:
            incident.public_note = public_note
            fields.append("public_note")
        incident.save(update_fields=fields)
        activity_log(
            ticket=None,
            actor=actor,
            verb="incident_resolved",
            after={"incident": incident.pk, "replies": queued},
        )
    return queued


def _answers_compose(
    incident: Incident,
    links: list[IncidentTicket],
    tickets: dict[int, Ticket],
    template: str,
    actor: User,
) -> tuple[dict[int, str], dict[int, tuple[dict, str] | None]]:
    """The answer of each link (its ticket's language, the agent's signature) and, for WhatsApp
    tickets, the send plan (None: the customer opted out). Raises ``ValidationError`` when an
    answer is too long for its channel or WhatsApp refuses its template: nothing is sent."""
    too_long = []
    texts = {}
    profile = AgentProfile.objects.filter(user_id=actor.pk).first()
    signature = profile.signature if profile else ""
    plans: dict[int, tuple[dict, str] | None] = {}
    refused = []
    for link in links:
        ticket = tickets[link.ticket_id]
        text = answer_text(
            template=template,
            translations=incident.reply_translations,
            ticket=ticket,
            signature=signature,
        )
        if ticket.channel.platform == "whatsapp":
            # Outside WhatsApp's 24-hour window only an approved template goes out; its
            # parameters carry the answer itself (the template has its own sign-off).
            from channels.whatsapp.window import TemplateRefused, incident_reply

            unsigned = answer_text(
                template=template, translations=incident.reply_translations, ticket=ticket
            )
            try:
                plans[link.pk] = incident_reply(ticket=ticket, text=unsigned)
            except TemplateRefused as exc:
                refused.append(f"{ticket.pk}: {exc}")
                continue
            plan = plans[link.pk]
            if plan is not None:
                text = plan[1]
        limit = ticket.channel.connector_class.text_limit
        if limit is not None and ticket.channel.connector_class.count_text(text) > limit:
            too_long.append(ticket.pk)
        texts[link.pk] = text
    if too_long:
        raise ValidationError(
            {"template": f"Too long for the channel of tickets {too_long}; shorten it."}
        )
    if refused:
        raise ValidationError({"template": "WhatsApp tickets " + "; ".join(refused)})
    return texts, plans


def _answers_queue(
    incident: Incident,
    links: list[IncidentTicket],
    tickets: dict[int, Ticket],
    texts: dict[int, str],
    plans: dict[int, tuple[dict, str] | None],
    actor: User,
    now: dt.datetime,
) -> list[int]:
    """Queue each link's answer, record it on the link and close its ticket; returns the ids
    of the replies queued."""
    queued: list[int] = []
    calendars = Calendars({t.team_id for t in tickets.values()})
    for link in links:
        ticket = tickets[link.ticket_id]
        if link.pk in plans and plans[link.pk] is None:
            # Opted out of WhatsApp messages: no reply until they write again; the ticket
            # stays linked and open, so a later resolution answers it.
            continue
        message = reply_queue(
            ticket=ticket,
            author=actor,
            text=texts[link.pk],
            mode="dm" if ticket.kind == TicketKind.DM else "public",
            options=_template_options(plans.get(link.pk)),
        )
        link.reply = message
        link.save(update_fields=["reply"])
        queued.append(message.pk)
        ticket_close(
            ticket_id=ticket.pk, user=actor, incident=incident, now=now, calendars=calendars
        )
    return queued


def _template_options(plan: tuple[dict, str] | None) -> dict | None:
    """The WhatsApp template a ticket's answer goes out as (None: as plain text)."""
    return plan[0] if plan is not None else None
