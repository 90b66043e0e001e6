"""The REST API, ``/api/v1/``: django-ninja over the same services and selectors as the screens.

Every endpoint checks access with ``inbox.core.access`` (as the screen's view does) and then
calls one selector or service; a state change is never written here. Errors are JSON
``{"code", "message"}`` with a stable code (docs/api.md lists them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from channels.models import Channel
from inbox.api import services as api_services
from inbox.api import webhooks
from inbox.api.auth import ApiError, TokenAuth
from inbox.core import access
from inbox.models import (
    Activity,
    Customer,
    Identity,
    Incident,
    Message,
    OutboundDelivery,
    Ticket,
    WebhookEvent,
    WebhookSubscription,
)
from inbox.tickets import selectors as ticket_selectors
from inbox.tickets import services as ticket_services

api = NinjaAPI(
    title="Webcare API",
    version="1",
    description="The shared inbox's REST API. Authenticate with `Authorization: Bearer <token>`"
    " (create a token on your profile page). See docs/api.md.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


# --- errors -----------------------------------------------------------------------------------
class ErrorOut(Schema):
    code: str
    message: str


def _error(request, status: int, code: str, message: str, headers: dict | None = None):
    response = api.create_response(request, {"code": code, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, exc.headers)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", "A valid API token is required.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, "forbidden", str(exc) or "Not allowed.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(ObjectDoesNotExist)
def _no_object(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else "Invalid input."
    return _error(request, 422, "invalid", message)


@api.exception_handler(ticket_services.ActionError)
def _action_error(request, exc):
    code = "collision" if isinstance(exc, ticket_services.Collision) else "not_possible"
    if isinstance(exc, ticket_services.AlreadyClaimed):
        code = "already_claimed"
    return _error(request, 409, code, exc.message)


@api.exception_handler(ValueError)
def _value_error(request, exc):
    return _error(request, 422, "invalid", str(exc))


# ninja's own HTTP errors: 400 for a body that is not JSON, 405 for a method a path lacks.
HTTP_CODES = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    status = exc.status_code
    return _error(request, status, HTTP_CODES.get(status, "error"), str(exc))


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
ACTION_ERRORS = {**ERRORS, 409: ErrorOut}


def _write(request) -> None:
    """Read-write scope is checked by the auth on the method; this keeps the rule visible."""


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
    identity = t.identity
    return {
        "id": t.pk,
        "channel_id": t.channel_id,
        "channel": t.channel.name,
        "kind": t.kind,
        "status": t.status,
        "customer_id": t.customer_id,
        "customer": (t.customer.display_name if t.customer is not None else "")
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
    if m.author_user_id and m.author_user is not None:
        author = m.author_user.get_full_name() or m.author_user.get_username()
    elif m.author_identity_id and m.author_identity is not None:
        author = m.author_identity.handle or m.author_identity.display_name
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
            }
            for a in m.attachments.all()
        ],
    }


# --- tickets ----------------------------------------------------------------------------------
tickets = Router(tags=["tickets"])


class TicketFilter(Schema):
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
    sla: Literal["", "met", "breached"] = ""
    limit: int = Field(50, ge=1, le=100, description="Rows per page.")


@tickets.get("/tickets", response={200: TicketPageOut, **ERRORS}, summary="The inbox list")
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
    return {
        "items": [_ticket(t) for t in page.tickets],
        "next_after": page.next_after,
        "count": page.count_label,
    }


@tickets.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **ERRORS})
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


def _id(value: int) -> int:
    if not 0 < value < 2**63:
        raise Http404("No such object.")
    return value


class Done(Schema):
    ok: bool = True
    ticket: TicketOut | None = None


def _done(ticket_id: int) -> dict:
    t = Ticket.objects.select_related("channel", "identity", "customer").get(pk=ticket_id)
    return {"ok": True, "ticket": _ticket(t)}


def _workable(request, ticket_id: int) -> Ticket:
    access.require_work(request.user)
    return access.ticket_for(request.user, _id(ticket_id))


@tickets.post("/tickets/{ticket_id}/claim", response={200: Done, **ACTION_ERRORS})
def ticket_claim(request, ticket_id: int):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_claim(ticket_id=ticket.pk, user=request.user)
    return _done(ticket.pk)


@tickets.post("/tickets/{ticket_id}/release", response={200: Done, **ACTION_ERRORS})
def ticket_release(request, ticket_id: int):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_release(
        ticket_id=ticket.pk, user=request.user, force=access.can_assign(request.user)
    )
    return _done(ticket.pk)


class AssignIn(Schema):
    assignee_id: int | None = Field(None, ge=1, le=2**31 - 1, description="None unassigns.")


@tickets.post("/tickets/{ticket_id}/assign", response={200: Done, **ACTION_ERRORS})
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


@tickets.post("/tickets/{ticket_id}/reply", response={200: ReplyOut, **ACTION_ERRORS})
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


@tickets.post("/tickets/{ticket_id}/note", response={200: Done, **ACTION_ERRORS})
def ticket_note(request, ticket_id: int, body: NoteIn):
    ticket = _workable(request, ticket_id)
    ticket_services.note_add(ticket_id=ticket.pk, user=request.user, text=body.text)
    return _done(ticket.pk)


class TagIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)


@tickets.post("/tickets/{ticket_id}/tags", response={200: Done, **ACTION_ERRORS})
def ticket_tag(request, ticket_id: int, body: TagIn):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_tag(ticket_id=ticket.pk, user=request.user, name=body.name)
    return _done(ticket.pk)


@tickets.delete("/tickets/{ticket_id}/tags/{name}", response={200: Done, **ACTION_ERRORS})
def ticket_untag(request, ticket_id: int, name: str):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_untag(ticket_id=ticket.pk, user=request.user, name=name[:60])
    return _done(ticket.pk)


class CloseIn(Schema):
    reason: Literal["", "resolved", "no_reply_needed", "spam", "duplicate"] = ""


@tickets.post("/tickets/{ticket_id}/close", response={200: Done, **ACTION_ERRORS})
def ticket_close(request, ticket_id: int, body: CloseIn):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_close(ticket_id=ticket.pk, user=request.user, reason=body.reason)
    return _done(ticket.pk)


@tickets.post("/tickets/{ticket_id}/reopen", response={200: Done, **ACTION_ERRORS})
def ticket_reopen(request, ticket_id: int):
    ticket = _workable(request, ticket_id)
    ticket_services.ticket_reopen(ticket_id=ticket.pk, user=request.user)
    return _done(ticket.pk)


class SnoozeIn(Schema):
    until: dt.datetime = Field(..., description="With a time zone offset.")


@tickets.post("/tickets/{ticket_id}/snooze", response={200: Done, **ACTION_ERRORS})
def ticket_snooze(request, ticket_id: int, body: SnoozeIn):
    ticket = _workable(request, ticket_id)
    until = body.until
    if until.tzinfo is None:
        raise ValueError("until needs a time zone offset")
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) < until < dt.datetime(9000, 1, 1, tzinfo=dt.UTC):
        raise ValueError("until is out of range")
    ticket_services.ticket_snooze(ticket_id=ticket.pk, user=request.user, until=until)
    return _done(ticket.pk)


# --- customers --------------------------------------------------------------------------------
customers = Router(tags=["customers"])


class IdentityOut(Schema):
    id: int
    platform: str
    platform_user_id: str
    handle: str
    display_name: str
    profile_url: str


class CustomerOut(Schema):
    id: int
    display_name: str
    vip: bool
    merged_into_id: int | None
    attributes: dict[str, Any]
    identities: list[IdentityOut]


def _customer(c: Customer) -> dict:
    return {
        "id": c.pk,
        "display_name": c.display_name,
        "vip": c.vip,
        "merged_into_id": c.merged_into_id,
        "attributes": c.attributes or {},
        "identities": [
            {
                "id": i.pk,
                "platform": i.platform,
                "platform_user_id": i.platform_user_id,
                "handle": i.handle,
                "display_name": i.display_name,
                "profile_url": i.profile_url,
            }
            for i in c.identities.all()
        ],
    }


def _visible_customers(user):
    """Customers of the tickets ``user`` may see (the screens show a customer only there)."""
    access.require_work(user)
    if access.can_assign(user):
        return Customer.objects.all()
    seen = access.visible_tickets(user).values("customer_id")
    return Customer.objects.filter(pk__in=seen)


class CustomerLookup(Schema):
    handle: str = Field("", max_length=200, description="A platform handle, with or without @.")
    platform: str = Field("", max_length=32)
    email: str = Field("", max_length=254, description='Matches attribute "email".')
    phone: str = Field("", max_length=40, description='Matches attribute "phone".')


@customers.get("/customers", response={200: list[CustomerOut], **ERRORS})
def customer_lookup(request, lookup: Query[CustomerLookup]):
    qs = _visible_customers(request.user)
    if lookup.handle.strip():
        handle = lookup.handle.strip().lstrip("@")
        ids = Identity.objects.filter(handle__iexact=handle)
        if lookup.platform:
            ids = ids.filter(platform=lookup.platform)
        qs = qs.filter(pk__in=ids.values("customer_id"))
    elif lookup.email.strip():
        qs = qs.filter(attributes__email__iexact=lookup.email.strip())
    elif lookup.phone.strip():
        qs = qs.filter(attributes__phone=lookup.phone.strip())
    else:
        raise ValueError("give handle, email or phone")
    return [_customer(c) for c in qs.prefetch_related("identities").order_by("pk")[:50]]


@customers.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def customer_detail(request, customer_id: int):
    qs = _visible_customers(request.user).prefetch_related("identities")
    return _customer(qs.get(pk=_id(customer_id)))


class AttributesIn(Schema):
    attributes: dict[str, Any] = Field(..., description="Keys to set; null removes a key.")
    replace: bool = False


@customers.patch("/customers/{customer_id}/attributes", response={200: CustomerOut, **ERRORS})
def customer_attributes(request, customer_id: int, body: AttributesIn):
    """How a CRM pushes what it knows about a customer."""
    customer = _visible_customers(request.user).get(pk=_id(customer_id))
    if len(body.attributes) > 100 or any(len(str(k)) > 100 for k in body.attributes):
        raise ValueError("at most 100 attributes, keys of at most 100 characters")
    api_services.customer_attributes_set(
        user=request.user,
        customer_id=customer.pk,
        attributes=body.attributes,
        replace=body.replace,
    )
    return _customer(Customer.objects.prefetch_related("identities").get(pk=customer.pk))


class MergeIn(Schema):
    into_customer_id: int = Field(..., ge=1, le=2**63 - 1)


@customers.post("/customers/{customer_id}/merge", response={200: CustomerOut, **ACTION_ERRORS})
def customer_merge(request, customer_id: int, body: MergeIn):
    """Link this customer to another as the same person (as "merge" in the thread)."""
    from inbox.customers import services as customer_services

    visible = _visible_customers(request.user)
    source = visible.get(pk=_id(customer_id))
    target = visible.get(pk=body.into_customer_id)
    if source.pk == target.pk:
        raise ticket_services.ActionError("A customer cannot be merged into itself.")
    customer_services.customer_merge(source_id=source.pk, target_id=target.pk, user=request.user)
    return _customer(Customer.objects.prefetch_related("identities").get(pk=source.pk))


# --- channels ---------------------------------------------------------------------------------
channels = Router(tags=["channels"])


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    enabled: bool
    health_state: str
    last_success_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    consecutive_failures: int


def _channel(c: Channel) -> dict:
    return {
        "id": c.pk,
        "kind": c.kind,
        "name": c.name,
        "enabled": c.enabled,
        "health_state": c.health_state,
        "last_success_at": c.last_success_at,
        "last_error": c.last_error[:500],
        "last_error_at": c.last_error_at,
        "consecutive_failures": c.consecutive_failures,
    }


@channels.get("/channels", response={200: list[ChannelOut], **ERRORS})
def channel_list(request):
    access.require_work(request.user)
    return [_channel(c) for c in Channel.objects.order_by("name", "pk")]


class ChannelIn(Schema):
    enabled: bool | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    poll_interval: int | None = Field(None, ge=15, le=86_400)


@channels.patch("/channels/{channel_id}", response={200: ChannelOut, **ERRORS})
def channel_update(request, channel_id: int, body: ChannelIn):
    """Admins only (as the channels page)."""
    from channels.services import channel_update as update

    if not access.can_configure(request.user):
        raise PermissionDenied("Only admins change channels.")
    channel = Channel.objects.get(pk=_id(channel_id))
    changes = {k: v for k, v in body.dict().items() if v is not None}
    return _channel(update(channel=channel, actor=request.user, **changes))


# --- incidents, dashboard, audit ----------------------------------------------------------------
leads = Router(tags=["reports"])


class IncidentOut(Schema):
    id: int
    title: str
    status: str
    declared_at: dt.datetime
    resolved_at: dt.datetime | None
    ticket_ids: list[int]


@leads.get("/incidents", response={200: list[IncidentOut], **ERRORS})
def incident_list(request, status: Literal["", "open", "resolved"] = ""):
    access.require_work(request.user)
    access.require_assign(request.user)
    qs = Incident.objects.prefetch_related("links").order_by("-pk")
    if status:
        qs = qs.filter(status=status)
    return [
        {
            "id": i.pk,
            "title": i.title,
            "status": i.status,
            "declared_at": i.declared_at,
            "resolved_at": i.resolved_at,
            "ticket_ids": [link.ticket_id for link in i.links.all()],
        }
        for i in qs[:200]
    ]


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


class DashboardIn(Schema):
    range: Literal["", "today", "7d", "30d"] = ""
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    team: int | None = Field(None, ge=1, le=2**31 - 1)


@leads.get("/dashboard", response={200: dict[str, Any], **ERRORS})
def dashboard(request, params: Query[DashboardIn]):
    """The dashboard's figures for a period, as the leads' dashboard computes them."""
    from inbox.reports.views import Period, cached_figures

    access.require_work(request.user)
    access.require_assign(request.user)
    tz = timezone.get_current_timezone()
    query = {
        "range": params.range,
        "from": params.from_.isoformat() if params.from_ else "",
        "to": params.to.isoformat() if params.to else "",
        "team": str(params.team or ""),
    }
    period = Period.from_query(query, timezone.localdate(timezone.now(), tz))
    data = cached_figures(period, tz)
    return {"first": period.first, "last": period.last, **_plain(data)}


class AuditOut(Schema):
    id: int
    created_at: dt.datetime
    actor_id: int | None
    ticket_id: int | None
    verb: str
    before: dict[str, Any]
    after: dict[str, Any]


class AuditPageOut(Schema):
    items: list[AuditOut]
    next_after: str


class AuditIn(Schema):
    actor: str = Field("", max_length=20, description='A user id, or "system".')
    ticket: int | None = Field(None, ge=1, le=2**63 - 1)
    verb: str = Field("", max_length=40)
    scope: Literal["", "tickets", "settings"] = ""
    after: str = Field("", max_length=80)


@leads.get("/audit", response={200: AuditPageOut, **ERRORS})
def audit(request, params: Query[AuditIn]):
    from inbox.audit.selectors import AuditFilter, audit_page

    access.require_work(request.user)
    access.require_assign(request.user)
    flt = AuditFilter.from_query(
        {k: str(v) for k, v in params.dict().items() if v not in (None, "")}
    )
    page = audit_page(flt)
    return {
        "items": [
            {
                "id": r.activity.pk,
                "created_at": r.activity.created_at,
                "actor_id": r.activity.actor_id,
                "ticket_id": r.activity.ticket_id,
                "verb": r.activity.verb,
                "before": r.activity.before or {},
                "after": r.activity.after or {},
            }
            for r in page.rows
        ],
        "next_after": page.next_after,
    }


# --- tokens and webhooks ------------------------------------------------------------------------
admin = Router(tags=["tokens and webhooks"])


class TokenOut(Schema):
    id: int
    user_id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown this once; only its hash is stored.")


def _token(t) -> dict:
    return {
        f: getattr(t, f)
        for f in ("id", "user_id", "name", "prefix", "scope", "created_at", "last_used_at")
    } | {"revoked_at": t.revoked_at}


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    scope: Literal["read", "write"] = "read"
    user_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Admins: for someone else.")


@admin.get("/tokens", response={200: list[TokenOut], **ERRORS})
def token_list(request):
    """Your tokens; an admin sees everyone's."""
    from inbox.models import ApiToken

    qs = ApiToken.objects.order_by("-pk")
    if not access.can_configure(request.user):
        qs = qs.filter(user=request.user)
    return [_token(t) for t in qs[:500]]


@admin.post("/tokens", response={201: TokenCreated, **ERRORS})
def token_create(request, body: TokenIn):
    owner = request.user
    if body.user_id is not None and body.user_id != request.user.pk:
        owner = get_user_model().objects.get(pk=body.user_id)
    token, raw = api_services.token_create(
        user=request.user, owner=owner, name=body.name, scope=body.scope
    )
    return Status(201, {**_token(token), "token": raw})


@admin.delete("/tokens/{token_id}", response={200: TokenOut, **ERRORS})
def token_revoke(request, token_id: int):
    from inbox.models import ApiToken

    visible = ApiToken.objects.all()
    if not access.can_configure(request.user):
        visible = visible.filter(user=request.user)
    token = visible.get(pk=_id(token_id))
    return _token(api_services.token_revoke(user=request.user, token_id=token.pk))


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    enabled: bool
    failures: int
    disabled_reason: str
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once.")


class WebhookIn(Schema):
    url: str = Field(..., min_length=8, max_length=1000)
    events: list[WebhookEvent] = Field(..., min_length=1)


class WebhookPatch(Schema):
    enabled: bool | None = None
    events: list[WebhookEvent] | None = None


def _webhook(s: WebhookSubscription) -> dict:
    return {
        f: getattr(s, f)
        for f in ("id", "url", "events", "enabled", "failures", "disabled_reason", "created_at")
    }


def _configure(request) -> None:
    if not access.can_configure(request.user):
        raise PermissionDenied("Only admins manage webhooks.")


@admin.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
def webhook_list(request):
    _configure(request)
    return [_webhook(s) for s in WebhookSubscription.objects.order_by("pk")]


@admin.post("/webhooks", response={201: WebhookCreated, **ERRORS})
def webhook_create(request, body: WebhookIn):
    _configure(request)
    sub = api_services.subscription_create(
        user=request.user, url=body.url, events=[str(e) for e in body.events]
    )
    return Status(201, {**_webhook(sub), "secret": sub.secret})


@admin.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def webhook_update(request, webhook_id: int, body: WebhookPatch):
    _configure(request)
    sub = api_services.subscription_update(
        user=request.user,
        subscription_id=WebhookSubscription.objects.get(pk=_id(webhook_id)).pk,
        enabled=body.enabled,
        events=[str(e) for e in body.events] if body.events is not None else None,
    )
    return _webhook(sub)


@admin.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS})
def webhook_delete(request, webhook_id: int):
    _configure(request)
    sub = WebhookSubscription.objects.get(pk=_id(webhook_id))
    api_services.subscription_delete(user=request.user, subscription_id=sub.pk)
    return Status(204, None)


class DeliveryOut(Schema):
    id: int
    event: str
    ticket_id: int | None
    status: str
    attempts: int
    response_code: int | None
    duration_ms: int | None
    error: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None


def _delivery(d: OutboundDelivery) -> dict:
    return {
        "id": d.pk,
        "event": d.event,
        "ticket_id": d.ticket_id,
        "status": d.status,
        "attempts": d.attempts,
        "response_code": d.response_code,
        "duration_ms": d.duration_ms,
        "error": d.error,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
        "delivered_at": d.delivered_at,
    }


@admin.get("/webhooks/{webhook_id}/deliveries", response={200: list[DeliveryOut], **ERRORS})
def webhook_deliveries(
    request, webhook_id: int, before: int | None = Query(None, ge=1, le=2**63 - 1)
):
    """The delivery log, newest first, 100 at a time (``before``: the last id seen)."""
    _configure(request)
    qs = OutboundDelivery.objects.filter(subscription_id=_id(webhook_id)).order_by("-pk")
    if before:
        qs = qs.filter(pk__lt=before)
    return [_delivery(d) for d in qs[:100]]


@admin.post("/deliveries/{delivery_id}/resend", response={201: DeliveryOut, **ERRORS})
def delivery_resend(request, delivery_id: int):
    """Send a delivery again (a new copy at the end of its ticket's queue)."""
    _configure(request)
    return Status(201, _delivery(webhooks.send_again(delivery_id=_id(delivery_id))))


api.add_router("", tickets)
api.add_router("", customers)
api.add_router("", channels)
api.add_router("", leads)
api.add_router("", admin)

# Names kept for the docs and tests: every endpoint's operation, method and path.
__all__ = ["api", "Activity", "Q"]
