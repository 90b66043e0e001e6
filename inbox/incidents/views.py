"""Incidents: declare, link tickets, keep a public note, resolve with one answer to all.

Leads and admins only. Every change goes through ``inbox.incidents.services`` (which writes the
audit
rows). Resolving is two steps: a preview of the personalised reply per linked ticket (channel,
DM or public, too long or not), then a confirm that sends exactly the previewed template. The
engine guarantees one reply per ticket, so a second click or a second lead answers nobody twice;
the page only reports what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.core.decorators import lead_required
from inbox.incidents import services as incidents
from inbox.models import (
    OPEN_STATUSES,
    AgentProfile,
    Incident,
    IncidentStatus,
    IncidentTicket,
    Ticket,
    TicketKind,
    TicketStatus,
)
from inbox.replies.services import ReplyInvalid
from inbox.tickets.selectors import search_q
from inbox.tickets.services import ActionError
from webcare.http import AuthedRequest

LINKED_SHOWN = 200  # linked tickets listed on the incident page; the count says how many more
PREVIEW_SHOWN = 20  # personalised replies shown before resolving (every one is checked)
SEARCH_SHOWN = 50  # open tickets a search offers for linking
PLACEHOLDER_HELP = gettext_lazy(
    "{name} becomes the customer's name, {first_name} their first name, {handle} their "
    "@handle. A missing name leaves no gap."
)


# --- forms ------------------------------------------------------------------------------------
class IncidentForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        help_text=gettext_lazy("For the team, e.g. “Deliveries delayed in Utrecht”."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What is known, for colleagues. Not sent to customers."),
    )
    public_note = forms.CharField(
        label=gettext_lazy("Public status note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The status you tell customers, kept up to date while it lasts."),
    )
    reply_template = forms.CharField(
        label=gettext_lazy("Answer when solved"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=PLACEHOLDER_HELP,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"reply_template_{code}"] = forms.CharField(
                label=_("Answer when solved, in %(language)s") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_(
                    "For customers writing %(language)s; the answer above goes to the others."
                )
                % {"language": name},
            )

    def values(self) -> dict:
        """The cleaned data as the services take it: the translations as one mapping."""
        data = dict(self.cleaned_data)
        texts = {code: data.pop(f"reply_template_{code}", "") for code, _n in settings.LANGUAGES}
        data["reply_translations"] = {code: text for code, text in texts.items() if text.strip()}
        return data

    @staticmethod
    def initial_for(incident: Incident) -> dict:
        return {
            "title": incident.title,
            "description": incident.description,
            "public_note": incident.public_note,
            "reply_template": incident.reply_template,
            **{
                f"reply_template_{code}": (incident.reply_translations or {}).get(code, "")
                for code, _name in settings.LANGUAGES
            },
        }


class ResolveForm(forms.Form):
    template = forms.CharField(widget=forms.HiddenInput, strip=False)
    public_note = forms.CharField(
        label=gettext_lazy("Public status note after solving"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- helpers ----------------------------------------------------------------------------------
def _ticket_ids(raw: str) -> list[int]:
    """Ticket numbers typed by a lead: "12, 15 #18" → [12, 15, 18]."""
    return list(dict.fromkeys(int(n) for n in re.findall(r"\d+", raw)[:1000]))


def _customer(ticket: Ticket) -> str:
    identity = ticket.identity
    if identity is not None and (identity.display_name or identity.handle):
        return identity.display_name or f"@{identity.handle}"
    return ticket.customer.display_name if ticket.customer else "—"


@dataclass(frozen=True)
class Preview:
    ticket: Ticket
    customer: str
    mode: str  # "dm" or "public"
    text: str
    length: int
    limit: int | None
    sendable: bool = True  # the channel can send this kind of reply (DM or public) at all

    @property
    def too_long(self) -> bool:
        return self.limit is not None and self.length > self.limit

    @property
    def blocked(self) -> bool:
        return self.too_long or not self.sendable


def resolve_preview(incident: Incident, template: str, signature: str = "") -> list[Preview]:
    """The reply every linked ticket not answered yet would get: in its customer's language,
    personalised and signed (two queries)."""
    tickets = Ticket.objects.filter(
        pk__in=IncidentTicket.objects.filter(incident=incident, reply__isnull=True).values(
            "ticket_id"
        )
    ).select_related("identity", "customer", "channel")
    out = []
    for ticket in tickets.order_by("pk"):
        text = incidents.answer_text(
            template=template,
            translations=incident.reply_translations,
            ticket=ticket,
            signature=signature,
        )
        connector = ticket.channel.connector_class
        mode = "dm" if ticket.kind == TicketKind.DM else "public"
        out.append(
            Preview(
                ticket=ticket,
                customer=_customer(ticket),
                mode=mode,
                text=text,
                length=connector.count_text(text),
                limit=connector.text_limit,
                sendable=mode in connector.reply_modes,
            )
        )
    return out


def _linked(incident: Incident):
    return (
        IncidentTicket.objects.filter(incident=incident)
        .select_related(
            "ticket", "ticket__identity", "ticket__customer", "ticket__channel", "reply", "rule"
        )
        .order_by("-linked_at", "-pk")
    )


def _detail_context(incident: Incident, *, form=None, q: str = "") -> dict:
    links = list(_linked(incident)[:LINKED_SHOWN])
    for link in links:
        link.customer = _customer(link.ticket)
    total = IncidentTicket.objects.filter(incident=incident).count()
    # Each ticket found with its customer's name.
    found: list[tuple[Ticket, str]] = []
    if q and incident.status == IncidentStatus.OPEN:
        tickets = list(
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .filter(search_q(q))
            .exclude(pk__in=IncidentTicket.objects.filter(incident=incident).values("ticket_id"))
            .select_related("identity", "customer", "channel")
            .order_by("-updated_at", "-pk")[:SEARCH_SHOWN]
        )
        found = [(ticket, _customer(ticket)) for ticket in tickets]
    return {
        "incident": incident,
        "form": form or IncidentForm(initial=IncidentForm.initial_for(incident)),
        "links": links,
        "linked_total": total,
        "more": max(0, total - len(links)),
        "q": q,
        "found": found,
        "is_open": incident.status == IncidentStatus.OPEN,
        "placeholder_help": PLACEHOLDER_HELP,
    }


# --- views ------------------------------------------------------------------------------------
@require_GET
@lead_required
def incident_list(request: AuthedRequest) -> HttpResponse:
    """Open incidents first (newest first), then resolved ones; each with its ticket count."""
    rows = list(
        Incident.objects.annotate(
            n_tickets=Count("links"),
            n_answered=Count("links", filter=Q(links__reply__isnull=False)),
        ).order_by("status", "-declared_at", "-pk")[:500]
    )
    return render(
        request,
        "inbox/incidents/list.html",
        {
            "open": [i for i in rows if i.status == IncidentStatus.OPEN],
            "resolved": [i for i in rows if i.status != IncidentStatus.OPEN],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def incident_new(request: AuthedRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = incidents.incident_declare(actor=request.user, **form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Incident declared. Link the tickets it concerns."))
            return redirect("pages:incident", incident_id=incident.pk)
    return render(
        request,
        "inbox/incidents/form.html",
        {"form": form, "placeholder_help": PLACEHOLDER_HELP},
    )


@never_cache
@require_GET
@lead_required
def incident_detail(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    q = request.GET.get("q", "").strip()[:200]
    return render(request, "inbox/incidents/detail.html", _detail_context(incident, q=q))


@require_POST
@lead_required
def incident_edit(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    form = IncidentForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "inbox/incidents/detail.html",
            _detail_context(incident, form=form),
            status=400,
        )
    changes = {k: v for k, v in form.values().items() if getattr(incident, k) != v}
    if changes:
        incidents.incident_update(incident=incident, actor=request.user, **changes)
        messages.success(request, _("Saved."))
    return redirect("pages:incident", incident_id=incident.pk)


@require_POST
@lead_required
def incident_link(request: AuthedRequest, incident_id: int) -> HttpResponse:
    """Link tickets typed by number and/or ticked in the search results. Closed tickets are
    left out: resolving answers customers, and theirs is done."""
    incident = get_object_or_404(Incident, pk=incident_id)
    wanted = _ticket_ids(request.POST.get("ids", "")) + [
        int(v) for v in request.POST.getlist("ticket") if v.isdigit()
    ]
    wanted = list(dict.fromkeys(wanted))
    found = dict(Ticket.objects.filter(pk__in=wanted).values_list("pk", "status"))
    usable = [pk for pk in wanted if found.get(pk) not in (None, TicketStatus.CLOSED)]
    missing = [pk for pk in wanted if pk not in found]
    closed = [pk for pk in wanted if found.get(pk) == TicketStatus.CLOSED]
    if not wanted:
        messages.error(request, _("Type ticket numbers or tick tickets to link."))
    elif usable:
        try:
            n = incidents.incident_link(
                incident=incident, tickets=[Ticket(pk=pk) for pk in usable], actor=request.user
            )
        except ValidationError:
            messages.error(request, _("Tickets can only be linked to an open incident."))
            return redirect("pages:incident", incident_id=incident.pk)
        messages.success(
            request, ngettext("%(n)s ticket linked.", "%(n)s tickets linked.", n) % {"n": n}
        )
    if missing:
        messages.error(
            request,
            _("No such tickets: %(ids)s.") % {"ids": ", ".join(f"#{pk}" for pk in missing)},
        )
    if closed:
        messages.error(
            request,
            _("Closed tickets are not linked: %(ids)s.")
            % {"ids": ", ".join(f"#{pk}" for pk in closed)},
        )
    return redirect("pages:incident", incident_id=incident.pk)


@require_POST
@lead_required
def incident_unlink(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    raw = request.POST.get("ticket", "")
    link = IncidentTicket.objects.filter(
        incident=incident, ticket_id=int(raw) if raw.isdigit() else 0
    ).first()
    if link is None:
        messages.error(request, _("That ticket is not linked to this incident."))
    elif link.reply_id is not None:
        messages.error(request, _("That ticket was answered for this incident; it stays linked."))
    else:
        incidents.incident_unlink(incident=incident, ticket=link.ticket, actor=request.user)
        messages.success(request, _("Ticket #%(id)s unlinked.") % {"id": link.ticket_id})
    return redirect("pages:incident", incident_id=incident.pk)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def incident_resolve(request: AuthedRequest, incident_id: int) -> HttpResponse:
    """GET: the preview. POST: answer every linked ticket with the previewed template."""
    incident = get_object_or_404(Incident, pk=incident_id)
    if request.method == "POST" and incident.status != IncidentStatus.OPEN:
        # A second click, or a colleague was first: the engine would answer nobody again, and
        # the incident keeps who resolved it and when.
        messages.info(request, _("Already resolved; nobody was answered twice."))
        return redirect("pages:incident", incident_id=incident.pk)
    if request.method == "POST":
        form = ResolveForm(request.POST)
        if form.is_valid():
            try:
                queued = incidents.incident_resolve(
                    incident=incident,
                    actor=request.user,
                    template=form.cleaned_data["template"],
                    public_note=form.cleaned_data["public_note"],
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            except (ActionError, ReplyInvalid) as exc:
                messages.error(request, str(getattr(exc, "message", exc)))
            else:
                if queued:
                    messages.success(
                        request,
                        ngettext(
                            "Resolved: %(n)s customer is being answered and the ticket closed.",
                            "Resolved: %(n)s customers are being answered and their tickets "
                            "closed.",
                            len(queued),
                        )
                        % {"n": len(queued)},
                    )
                else:
                    messages.info(
                        request,
                        _("Nobody was waiting for this answer: every linked ticket has had it."),
                    )
                return redirect("pages:incident", incident_id=incident.pk)
        template = request.POST.get("template", "")
    else:
        template = incident.reply_template
    mine = AgentProfile.objects.filter(user_id=request.user.pk).first()
    signature = mine.signature if mine else ""
    previews = resolve_preview(incident, template, signature) if template.strip() else []
    too_long = [p for p in previews if p.too_long]
    unsendable = [p for p in previews if not p.sendable]
    return render(
        request,
        "inbox/incidents/resolve.html",
        {
            "incident": incident,
            "template": template,
            "previews": previews[:PREVIEW_SHOWN],
            "preview_total": len(previews),
            "too_long": too_long,
            "unsendable": unsendable,
            "blocked": bool(too_long or unsendable),
            "form": ResolveForm(
                initial={"template": template, "public_note": incident.public_note}
            ),
            "is_open": incident.status == IncidentStatus.OPEN,
        },
    )


urlpatterns = [
    path("", incident_list, name="incidents"),
    path("new/", incident_new, name="incident_new"),
    path("<int:incident_id>/", incident_detail, name="incident"),
    path("<int:incident_id>/edit/", incident_edit, name="incident_edit"),
    path("<int:incident_id>/link/", incident_link, name="incident_link"),
    path("<int:incident_id>/unlink/", incident_unlink, name="incident_unlink"),
    path("<int:incident_id>/resolve/", incident_resolve, name="incident_resolve"),
]
