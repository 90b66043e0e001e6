"""Actions on a ticket: the same services (and approval rules) as the screens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.contrib.auth import get_user_model
from ninja import Field, Schema

from inbox.api.endpoints.base import ACTION_ERRORS, _id
from inbox.api.endpoints.tickets import TicketOut, _ticket, router
from inbox.core import access
from inbox.models import (
    Ticket,
)
from inbox.tickets import services as ticket_services


class Done(Schema):
    ok: bool = True
    ticket: TicketOut | None = None


def _done(ticket_id: int) -> dict:
    t = Ticket.objects.select_related("channel", "identity", "customer").get(pk=ticket_id)
    return {"ok": True, "ticket": _ticket(t)}


def _workable(request, ticket_id: int) -> Ticket:
    access.require_work(request.user)
    return access.ticket_for(request.user, _id(ticket_id))


@router.post("/tickets/{ticket_id}/claim", response={200: Done, **ACTION_ERRORS})
def ticket_claim(request, ticket_id: int):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_claim(ticket_id=ticket.pk, user=request.user)
    return _done(ticket.pk)


@router.post("/tickets/{ticket_id}/release", response={200: Done, **ACTION_ERRORS})
def ticket_release(request, ticket_id: int):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_release(
        ticket_id=ticket.pk, user=request.user, force=access.can_assign(request.user)
    )
    return _done(ticket.pk)


class AssignIn(Schema):
    assignee_id: int | None = Field(None, ge=1, le=2**31 - 1, description="None unassigns.")


@router.post("/tickets/{ticket_id}/assign", response={200: Done, **ACTION_ERRORS})
def ticket_assign(request, ticket_id: int, body: AssignIn):
    ticket = _workable(request, ticket_id)
    access.require_assign(request.user)
    assignee = None
    if body.assignee_id is not None:
        assignee = get_user_model().objects.filter(pk=body.assignee_id).first()
        if assignee is None:
            raise ticket_services.ActionError("No such agent.")
    ticket_services.ticket_assign(ticket_id=ticket.pk, user=request.user, assignee=assignee)
    return _done(ticket.pk)


class ReplyIn(Schema):
    text: str = Field(..., min_length=1, max_length=20_000)
    # "private": move a comment to DM (Instagram, Facebook Pages): once per comment.
    mode: Literal["public", "dm", "private"] = "public"
    close: bool = False
    seen_message_id: int | None = Field(None, ge=1, le=2**63 - 1)


class ReplyOut(Schema):
    message_id: int
    delivery_state: str
    awaiting_approval: bool


@router.post("/tickets/{ticket_id}/reply", response={200: ReplyOut, **ACTION_ERRORS})
def ticket_reply(request, ticket_id: int, body: ReplyIn):
    """Under the same four-eyes rules as the composer: a reply that needs a lead's approval is
    stored awaiting it (``awaiting_approval``)."""
    from inbox.replies import services as reply_services

    ticket = _workable(request, ticket_id)
    message = reply_services.reply_send(
        ticket_id=ticket.pk,
        user=request.user,
        text=body.text,
        mode=body.mode,
        seen_message_id=body.seen_message_id,
        close=body.close,
    )
    message.refresh_from_db()
    return {
        "message_id": message.pk,
        "delivery_state": message.delivery_state or "",
        "awaiting_approval": message.delivery_state == "awaiting_approval",
    }


class NoteIn(Schema):
    text: str = Field(..., min_length=1, max_length=20_000)


@router.post("/tickets/{ticket_id}/note", response={200: Done, **ACTION_ERRORS})
def ticket_note(request, ticket_id: int, body: NoteIn):
    ticket = _workable(request, ticket_id)
    ticket_services.note_add(ticket_id=ticket.pk, user=request.user, text=body.text)
    return _done(ticket.pk)


class TagIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)


@router.post("/tickets/{ticket_id}/tags", response={200: Done, **ACTION_ERRORS})
def ticket_tag(request, ticket_id: int, body: TagIn):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_tag(ticket_id=ticket.pk, user=request.user, name=body.name)
    return _done(ticket.pk)


@router.delete("/tickets/{ticket_id}/tags/{name}", response={200: Done, **ACTION_ERRORS})
def ticket_untag(request, ticket_id: int, name: str):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_untag(ticket_id=ticket.pk, user=request.user, name=name[:60])
    return _done(ticket.pk)


class CloseIn(Schema):
    reason: Literal["", "resolved", "no_reply_needed", "spam", "duplicate"] = ""


@router.post("/tickets/{ticket_id}/close", response={200: Done, **ACTION_ERRORS})
def ticket_close(request, ticket_id: int, body: CloseIn):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_close(ticket_id=ticket.pk, user=request.user, reason=body.reason)
    return _done(ticket.pk)


@router.post("/tickets/{ticket_id}/reopen", response={200: Done, **ACTION_ERRORS})
def ticket_reopen(request, ticket_id: int):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_reopen(ticket_id=ticket.pk, user=request.user)
    return _done(ticket.pk)


class SnoozeIn(Schema):
    until: dt.datetime = Field(..., description="With a time zone offset.")


@router.post("/tickets/{ticket_id}/snooze", response={200: Done, **ACTION_ERRORS})
def ticket_snooze(request, ticket_id: int, body: SnoozeIn):
    ticket = _workable(request, ticket_id)
    until = body.until
    if until.tzinfo is None:
        raise ValueError("until needs a time zone offset")
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) < until < dt.datetime(9000, 1, 1, tzinfo=dt.UTC):
        raise ValueError("until is out of range")
    ticket_services.ticket_snooze(ticket_id=ticket.pk, user=request.user, until=until)
    return _done(ticket.pk)
