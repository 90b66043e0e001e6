"""The WhatsApp part of the composer: the window's time left, templates outside it (fields,
a live preview drawn by the server as the agent types, the pricing category), opt-outs."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from inbox.ingest.entry import access
from inbox.models import Ticket
from webcare.http import AuthedRequest

from . import services
from . import window as wa
from .models import WhatsAppContact, WhatsAppTemplate


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return access.ticket_for(request.user, ticket_id, Ticket.objects.select_related("channel"))


def composer_context(ticket: Ticket) -> dict:
    """What the composer shows on a WhatsApp ticket."""
    window = ticket.channel.connector().reply_window(
        ticket_kind=ticket.kind, last_inbound_at=ticket.last_inbound_at
    )
    left = None
    if window.allowed and window.closes_at:
        left = max(0, int((window.closes_at - timezone.now()).total_seconds()))
    wa_id = ticket.thread_key.removeprefix("wa:")
    contact = WhatsAppContact.objects.filter(channel_id=ticket.channel_id, wa_id=wa_id).first()
    templates = wa.templates_for(channel_id=ticket.channel_id, language=ticket.language)
    return {
        "ticket": ticket,
        "window": window,
        "left_hours": left // 3600 if left is not None else None,
        "left_minutes": (left % 3600) // 60 if left is not None else None,
        "opted_out_at": contact.opted_out_at if contact else None,
        "templates": templates,
    }


def _form_context(request: HttpRequest, ticket: Ticket) -> dict:
    source = request.POST if request.method == "POST" else request.GET
    template = WhatsAppTemplate.objects.filter(
        pk=source.get("template") or 0, channel_id=ticket.channel_id, status="APPROVED"
    ).first()
    if template is None:
        return {"ticket": ticket, "form": None}
    form = wa.template_form(template)
    header = [source.get(f"header_{i}", "") for i in range(1, form.header_slots + 1)]
    body = [source.get(f"body_{i}", "") for i in range(1, form.body_slots + 1)]
    return {
        "ticket": ticket,
        "form": form,
        "header_fields": list(enumerate(header, start=1)),
        "body_fields": list(enumerate(body, start=1)),
        "preview": wa.template_preview(form, header=header, body=body),
    }


@require_GET
@login_required
def template_form(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The chosen template's variables and its preview (redrawn as the agent types)."""
    access.require_work(request.user)
    ticket = _ticket(request, ticket_id)
    return render(request, "channels/whatsapp/template_form.html", _form_context(request, ticket))


@require_POST
@login_required
def template_send(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    access.require_work(request.user)
    ticket = _ticket(request, ticket_id)
    context = _form_context(request, ticket)
    form = context.get("form")
    try:
        if form is None:
            raise wa.TemplateRefused("Choose an approved template.")
        services.template_send(
            ticket_id=ticket.pk,
            user=request.user,
            template_id=form.template.pk,
            header=[v for _, v in context["header_fields"]],
            body=[v for _, v in context["body_fields"]],
        )
    except wa.TemplateRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, "Template queued.")
    return redirect(reverse("inbox:thread", args=[ticket.pk]))


@require_GET
@login_required
def opt_outs(request: AuthedRequest) -> HttpResponse:
    """The lead's list of customers who opted out of WhatsApp templates."""
    access.require_assign(request.user)  # leads
    return render(
        request, "channels/whatsapp/opt_outs.html", {"contacts": services.opted_out_contacts()}
    )
