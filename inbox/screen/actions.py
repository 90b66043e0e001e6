"""The inbox screen's actions on one ticket: each a POST that calls one service and answers with
the fresh thread head (htmx) or a redirect. Add a ticket action here (and its path in urls.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_POST

from inbox.core import access
from inbox.customers import services as customer_services
from inbox.engines import triage
from inbox.engines.intent import INTENTS
from inbox.incidents import services as incidents
from inbox.models import (
    DeliveryState,
    Direction,
    Incident,
    IncidentStatus,
    Message,
    Ticket,
)
from inbox.replies import services as reply_services
from inbox.screen.views import PAGE, _load_ticket, _thread_context, inbox_view
from inbox.tickets import selectors, services
from webcare.http import AuthedRequest


def _after_action(
    request: AuthedRequest, ticket_id: int, error: str = "", status: int = 200
) -> HttpResponse:
    """htmx: the fresh thread head and messages (composer untouched); else back to the page."""
    if not request.htmx:
        return redirect(reverse("inbox:thread", args=[ticket_id]))
    ticket = _load_ticket(request, ticket_id)
    context = _thread_context(request, ticket)
    context["error"] = error
    response = render(request, f"{PAGE}#live", context, status=status)
    response["HX-Trigger"] = "inbox:changed"
    return response


def _action(run: Callable[[AuthedRequest, Ticket], None]) -> Callable:
    @require_POST
    @inbox_view
    @functools.wraps(run)
    def view(request: AuthedRequest, ticket_id: int) -> HttpResponse:
        ticket = access.ticket_for(request.user, ticket_id)
        try:
            run(request, ticket)
        except services.ActionError as exc:
            if not request.htmx:
                return HttpResponse(exc.message, status=409, content_type="text/plain")
            return _after_action(request, ticket_id, exc.message, status=200)
        return _after_action(request, ticket_id)

    return view


@_action
def claim(request: AuthedRequest, ticket: Ticket) -> None:
    services.ticket_claim(ticket_id=ticket.pk, user=request.user)


@_action
def release(request: AuthedRequest, ticket: Ticket) -> None:
    services.ticket_release(
        ticket_id=ticket.pk, user=request.user, force=access.can_assign(request.user)
    )


@_action
def assign(request: AuthedRequest, ticket: Ticket) -> None:
    access.require_assign(request.user)
    raw = request.POST.get("assignee", "")
    assignee = None
    if raw:
        assignee = get_user_model().objects.filter(pk=raw if raw.isdigit() else 0).first()
        if assignee is None:
            raise services.ActionError(translation.gettext("No such agent."))
    # Whether they may take tickets is the service's check, the same for every path.
    services.ticket_assign(ticket_id=ticket.pk, user=request.user, assignee=assignee)


@_action
def tag(request: AuthedRequest, ticket: Ticket) -> None:
    services.ticket_tag(ticket_id=ticket.pk, user=request.user, name=request.POST.get("name", ""))


@_action
def untag(request: AuthedRequest, ticket: Ticket) -> None:
    services.ticket_untag(ticket_id=ticket.pk, user=request.user, name=request.POST.get("name", ""))


@_action
def close(request: AuthedRequest, ticket: Ticket) -> None:
    services.ticket_close(
        ticket_id=ticket.pk, user=request.user, reason=request.POST.get("reason", "")
    )


@_action
def reopen(request: AuthedRequest, ticket: Ticket) -> None:
    services.ticket_reopen(ticket_id=ticket.pk, user=request.user)


@_action
def snooze(request: AuthedRequest, ticket: Ticket) -> None:
    until = selectors.parse_until(request.POST.get("until", ""), timezone.get_current_timezone())
    if until is None:
        raise services.ActionError(translation.gettext("Pick a date and time."))
    services.ticket_snooze(ticket_id=ticket.pk, user=request.user, until=until)


@_action
def retry(request: AuthedRequest, ticket: Ticket) -> None:
    raw = request.POST.get("message", "")
    message = Message.objects.filter(
        pk=raw if raw.isdigit() else 0, ticket=ticket, direction=Direction.OUTBOUND
    ).first()
    if message is None or message.delivery_state != DeliveryState.FAILED:
        raise services.ActionError(translation.gettext("Only a failed reply can be retried."))
    reply_services.message_retry(message_id=message.pk, user=request.user)


def _message_id(request: HttpRequest) -> int:
    raw = request.POST.get("message", "")
    return int(raw) if raw.isdigit() else 0


@_action
def reply_resubmit(request: AuthedRequest, ticket: Ticket) -> None:
    """The author sends a reply a lead returned back for approval, edited."""
    from inbox.replies.review import reply_resubmit as resubmit

    message = Message.objects.filter(pk=_message_id(request), ticket=ticket).first()
    if message is None:
        raise services.ActionError(translation.gettext("No such reply."))
    resubmit(message_id=message.pk, user=request.user, text=request.POST.get("text", ""))


@_action
def reply_discard(request: AuthedRequest, ticket: Ticket) -> None:
    from inbox.replies.review import reply_discard as discard

    message = Message.objects.filter(pk=_message_id(request), ticket=ticket).first()
    if message is None:
        raise services.ActionError(translation.gettext("No such reply."))
    discard(message_id=message.pk, user=request.user)


@_action
def hide(request: AuthedRequest, ticket: Ticket) -> None:
    """Hide (or unhide) an abusive comment on the platform itself."""
    from channels.base import ConnectorError
    from inbox.tickets.moderation import message_can_hide, message_set_hidden

    message = _posted_message(request, ticket)
    if message is None or not message_can_hide(message):
        raise services.ActionError(translation.gettext("This message cannot be hidden."))
    try:
        message_set_hidden(
            message=message, actor=request.user, hidden=request.POST.get("hidden") == "1"
        )
    except ConnectorError as exc:
        raise services.ActionError(exc.message) from exc


@_action
def delete_comment(request: AuthedRequest, ticket: Ticket) -> None:
    """Delete a comment on the platform itself (Instagram comments on our own media)."""
    from channels.base import ConnectorError
    from inbox.tickets.moderation import message_can_delete, message_delete_on_platform

    message = _posted_message(request, ticket)
    if message is None or not message_can_delete(message):
        raise services.ActionError(translation.gettext("This message cannot be deleted."))
    try:
        message_delete_on_platform(message=message, actor=request.user)
    except ConnectorError as exc:
        raise services.ActionError(exc.message) from exc


def _posted_message(request: HttpRequest, ticket: Ticket) -> Message | None:
    """The message of ``ticket`` a moderation form names (``message``), or None."""
    raw = request.POST.get("message", "")
    return (
        Message.objects.select_related("channel", "ticket")
        .filter(pk=raw if raw.isdigit() else 0, ticket=ticket)
        .first()
    )


@_action
def intent(request: AuthedRequest, ticket: Ticket) -> None:
    """Correct the ticket's intent: anyone who may work the ticket."""
    value = request.POST.get("intent", "")
    if value not in INTENTS:
        raise services.ActionError(
            translation.gettext("Pick complaint, question, compliment or other.")
        )
    triage.ticket_intent_correct(ticket_id=ticket.pk, user=request.user, intent=value)


def _incident(request: HttpRequest) -> Incident:
    raw = request.POST.get("incident", "")
    incident = Incident.objects.filter(pk=raw if raw.isdigit() else 0).first()
    if incident is None:
        raise services.ActionError(translation.gettext("No such incident."))
    return incident


@_action
def incident_link(request: AuthedRequest, ticket: Ticket) -> None:
    """Link the ticket to an open incident: leads only."""
    access.require_assign(request.user)
    incident = _incident(request)
    if incident.status != IncidentStatus.OPEN:
        raise services.ActionError(translation.gettext("This incident is no longer open."))
    try:
        incidents.incident_link(incident=incident, tickets=[ticket], actor=request.user)
    except ValidationError as exc:
        raise services.ActionError(translation.gettext("This incident is no longer open.")) from exc


@_action
def incident_unlink(request: AuthedRequest, ticket: Ticket) -> None:
    """Undo the link: leads only; a ticket the resolution already answered stays linked."""
    access.require_assign(request.user)
    incidents.incident_unlink(incident=_incident(request), ticket=ticket, actor=request.user)


@_action
def merge(request: AuthedRequest, ticket: Ticket) -> None:
    raw = request.POST.get("other_ticket", "").lstrip("#")
    other = Ticket.objects.filter(pk=raw if raw.isdigit() else 0).first()
    if other is None or not access.can_see_ticket(request.user, other) or not other.customer_id:
        raise services.ActionError(translation.gettext("No such ticket."))
    if not ticket.customer_id:
        raise services.ActionError(translation.gettext("This ticket has no customer."))
    customer_services.customer_merge(
        source_id=ticket.customer_id, target_id=other.customer_id, user=request.user
    )


@_action
def customer_contact(request: AuthedRequest, ticket: Ticket) -> None:
    if not ticket.customer_id:
        raise services.ActionError(translation.gettext("This ticket has no customer."))
    user = request.user
    assert isinstance(user, User)  # inbox_view: logged in
    customer_services.customer_contact_set(
        customer_id=ticket.customer_id,
        phone=request.POST.get("phone", "")[:40],
        email=request.POST.get("email", "")[:254],
        user=user,
    )


@_action
def unmerge(request: AuthedRequest, ticket: Ticket) -> None:
    if ticket.customer_id:
        customer_services.customer_unmerge(customer_id=ticket.customer_id, user=request.user)
