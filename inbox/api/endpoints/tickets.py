"""Tickets: the inbox list and a ticket with its messages and attachments."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from inbox.api.endpoints.base import ERRORS, QueryIn, _id
from inbox.core import access
from inbox.media.services import INLINE_TYPES
from inbox.media.views import attachment_response
from inbox.models import (
    Message,
    Ticket,
)
from inbox.tickets import selectors as ticket_selectors


# --- shapes -----------------------------------------------------------------------------------
class TicketOut(Schema):
    id: int
    channel_id: int
    channel: str
    kind: str
    status: str
    customer_id: int | None
    customer: str
    handle: str
    assignee_id: int | None
    team_id: int | None
    tags: list[str]
    rating: int | None
    preview: str
    waiting_since: dt.datetime | None
    due_at: dt.datetime | None
    updated_at: dt.datetime


class TicketPageOut(Schema):
    items: list[TicketOut]
    next_after: str = Field(description="Pass as `after` for the next page; empty at the end.")
    count: str = Field(description='The view\'s count, capped ("99+").')


class AttachmentOut(Schema):
    id: int
    kind: str
    state: str
    name: str
    content_type: str
    size: int | None
    alt_text: str
    url: str = Field(description="The file, for a signed-in session (empty until stored).")
    download_url: str = Field(
        description="The file through the API, for a token (empty until stored)."
    )


class MessageOut(Schema):
    id: int
    direction: str
    text: str
    sent_at: dt.datetime
    author: str
    reply_mode: str
    delivery_state: str
    hidden: bool
    url: str
    attachments: list[AttachmentOut]


class TicketDetailOut(TicketOut):
    intent: str
    priority: int
    subject: str
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    closed_at: dt.datetime | None
    close_reason: str
    version: int
    messages: list[MessageOut]


def _ticket(t: Ticket) -> dict:
    identity, customer = t.identity, t.customer
    return {
        "id": t.pk,
        "channel_id": t.channel_id,
        "channel": t.channel.name,
        "kind": t.kind,
        "status": t.status,
        "customer_id": t.customer_id,
        "customer": (customer.display_name if customer else "")
        or (identity.display_name if identity else ""),
        "handle": identity.handle if identity else "",
        "assignee_id": t.assignee_id,
        "team_id": t.team_id,
        "tags": sorted(tag.name for tag in t.tags.all()),
        "rating": t.rating,
        "preview": t.last_message_preview,
        "waiting_since": t.waiting_since,
        "due_at": t.due_at,
        "updated_at": t.updated_at,
    }


def _message(m: Message) -> dict:
    user, identity = m.author_user, m.author_identity  # selected with the message
    if user is not None:
        author = user.get_full_name() or user.get_username()
    elif identity is not None:
        author = identity.handle or identity.display_name
    else:
        author = ""
    return {
        "id": m.pk,
        "direction": m.direction,
        "text": m.text,
        "sent_at": m.sent_at,
        "author": author,
        "reply_mode": m.reply_mode,
        "delivery_state": m.delivery_state or "",
        "hidden": m.hidden,
        "url": m.url,
        "attachments": [
            {
                "id": a.pk,
                "kind": a.kind,
                "state": a.state,
                "name": a.name,
                "content_type": a.detected_type or a.declared_type,
                "size": a.size,
                "alt_text": a.alt_text,
                "url": reverse("inbox:attachment", args=[a.pk, "download"])
                if a.state == "stored"
                else "",
                "download_url": reverse("api:attachment_file", args=[a.pk])
                if a.state == "stored"
                else "",
            }
            for a in m.attachments.all()
        ],
    }


# --- tickets ----------------------------------------------------------------------------------
router = Router(tags=["tickets"])


class TicketFilter(QueryIn):
    view: Literal[
        "mine", "unassigned", "open", "pending", "closed", "compliments", "at_risk", "all"
    ] = "open"
    channel: int | None = Field(None, ge=1, le=2**31 - 1)
    kind: str = Field("", max_length=16)
    tag: str = Field("", max_length=60)
    assignee: int | None = Field(None, ge=1, le=2**31 - 1)
    team: int | None = Field(None, ge=1, le=2**31 - 1)
    q: str = Field("", max_length=200, description="Search in messages and customers.")
    sort: Literal["", "due"] = ""
    after: str = Field("", max_length=80, description="The `next_after` of the previous page.")
    period: Literal["", "created", "opened", "closed", "due"] = Field(
        "", description="Which instant `since`/`until` apply to (as the dashboard counts)."
    )
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    intent: str = Field("", max_length=12)
    sla: Literal["", "met", "breached", "decided", "pending"] = Field(
        "", description="The first response's SLA outcome (decided: met or breached)."
    )
    measure: Literal["", "response", "response_business", "resolution", "resolution_business"] = (
        Field("", description="Only the tickets a dashboard time figure is computed over.")
    )
    responder: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Who gave the first answer (else the assignee)."
    )
    limit: int = Field(50, ge=1, le=100, description="Rows per page.")


@router.get("/tickets", response={200: TicketPageOut, **ERRORS}, summary="The inbox list")
def ticket_list(request, filters: Query[TicketFilter]):
    access.require_work(request.user)
    if filters.view == "at_risk":
        access.require_assign(request.user)
    for instant in (filters.since, filters.until):
        if instant is not None and instant.tzinfo is None:
            raise ValueError("since and until need a time zone offset")
    fields = filters.dict()
    limit = fields.pop("limit")
    flt = ticket_selectors.ListFilter(**{**fields, "q": filters.q.strip()})
    page = ticket_selectors.ticket_page(request.user, flt, limit=limit)
    # Built from our own rows, so constructed without validation: ninja then serializes the
    # instance as is, instead of re-validating every field of every row through its attribute
    # getter (a fifth of a 100-row request).
    return TicketPageOut.model_construct(
        items=[TicketOut.model_construct(**_ticket(t)) for t in page.tickets],
        next_after=page.next_after,
        count=page.count_label,
    )


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **ERRORS})
def ticket_detail(request, ticket_id: int):
    qs = Ticket.objects.select_related("channel", "identity", "customer").prefetch_related("tags")
    ticket = access.ticket_for(request.user, _id(ticket_id), qs)
    messages = (
        Message.objects.filter(ticket=ticket)
        .select_related("author_user", "author_identity")
        .prefetch_related("attachments")
        .order_by("sent_at", "pk")
    )
    return {
        **_ticket(ticket),
        "intent": ticket.intent,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "created_at": ticket.created_at,
        "first_response_at": ticket.first_response_at,
        "closed_at": ticket.closed_at,
        "close_reason": ticket.close_reason,
        "version": ticket.version,
        "messages": [_message(m) for m in messages],
    }


# Every type the file answer can carry: the inline allow-list (``variant=file``), the thumbnail's
# JPEG, and everything else as an ``application/octet-stream`` download.
_FILE_TYPES = sorted({"application/octet-stream", "image/jpeg", *INLINE_TYPES})
_FILE_RESPONSE = {
    "description": "The file's bytes, with `X-Content-Type-Options: nosniff`, a sandboxing"
    " `Content-Security-Policy` and `Content-Disposition: attachment` unless the type is on the"
    " inline allow-list and `variant=file` was asked.",
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in _FILE_TYPES},
}


@router.get(
    "/attachments/{attachment_id}",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: _FILE_RESPONSE}},
    summary="An attachment's file",
)
def attachment_file(
    request, attachment_id: int, variant: Literal["download", "file", "thumb"] = "download"
):
    """What a customer sent, to who may see its ticket (the screen's rule and headers):
    ``download`` (the default) always as a download, ``file`` inline when its type is on the
    allow-list, ``thumb`` the JPEG thumbnail of a picture or video."""
    return attachment_response(request, _id(attachment_id), variant)
