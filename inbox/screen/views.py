"""The inbox screen: list and thread side by side, every state change a POST to one service.

Each view checks access first (``inbox.core.access``), then calls one service. A normal request gets
the full page (or a redirect back to it after a POST); an htmx request gets the named partial of
``inbox/screen/inbox.html`` it needs. Live updates poll ``list_poll`` and ``thread_poll``, which
answer
204 (htmx swaps nothing) when nothing the user can see has changed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from channels.models import Channel
from inbox.core import access
from inbox.engines import assignment
from inbox.models import (
    AgentProfile,
    CannedReply,
    Intent,
    Tag,
    Team,
    Ticket,
    TicketKind,
)
from inbox.replies import services as reply_services
from inbox.replies.approval import reply_needs_approval
from inbox.screen import thread_pane
from inbox.tickets import presence, selectors, services
from inbox.tickets.thread import thread_messages
from webcare.http import AuthedRequest, HtmxRequest
from webcare.redirects import redirect_to_next

PAGE = "inbox/screen/inbox.html"


def inbox_view(view: Callable) -> Callable:
    """Log-in required and role required; ``inbox.core.middleware`` has activated the agent's own
    language and time zone."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: AuthedRequest, *args, **kwargs) -> HttpResponse:
        access.require_work(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _wants_fragment(request: HtmxRequest) -> bool:
    """htmx asked for a part of the page. A history restore (back button after the page left
    htmx's cache) needs the whole page, like a normal request."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _list_filter(request: AuthedRequest) -> selectors.ListFilter:
    """The list's view and filters from the query string; "At risk" is for leads only."""
    flt = selectors.ListFilter.from_query(request.GET)
    if flt.view == "at_risk" and not access.can_assign(request.user):
        raise PermissionDenied("Only team leads see the tickets at risk.")
    return flt


def _filters_context(request: AuthedRequest, flt: selectors.ListFilter) -> dict:
    views = [
        ("mine", translation.gettext("Mine")),
        ("unassigned", translation.gettext("Unassigned")),
        ("open", translation.gettext("All open")),
        ("pending", translation.gettext("Pending")),
        ("closed", translation.gettext("Closed")),
        ("compliments", translation.gettext("Compliments")),
    ]
    if access.can_assign(request.user):
        views.append(("at_risk", translation.gettext("At risk")))
    return {
        "flt": flt,
        "views": [(key, label, flt.query(view=key)) for key, label in views],
        # (value, label, the column it orders by): "At risk" is always in due order.
        "sorts": [
            ("", translation.gettext("Longest waiting"), "waiting_since"),
            ("due", translation.gettext("Due first"), "due_at"),
        ],
        "channels": Channel.objects.order_by("name").only("id", "name", "kind"),
        "kinds": TicketKind.choices,
        "teams": Team.objects.order_by("name").only("id", "name"),
        "agents": _agents(),
        "can_assign": access.can_assign(request.user),
    }


def _agents():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=["agent", "lead", "admin"])
        .distinct()
        .order_by("username")
        .only("id", "username", "first_name", "last_name")
    )


def _list_context(
    request: AuthedRequest, flt: selectors.ListFilter, first: tuple | None = None
) -> dict:
    """The list's page; ``first`` is what a poll already read of the first page (its keys, count
    label and viewers), which then need not be read again."""
    viewers = None
    if first is not None:
        keys, count_label, viewers = first
        page = selectors.page_from_keys(flt, keys, count_label)
    else:
        page = selectors.ticket_page(request.user, flt)
    if viewers is None:
        viewers = presence.others_many([t.pk for t in page.tickets], request.user)
    for t in page.tickets:
        t.viewers = viewers.get(t.pk, [])
    if page.keys is not None:
        page.stamp = page_stamp(page.keys, page.count_label, viewers)
    return {"page": page, "flt": flt, "selected_id": None}


def page_stamp(keys: list[tuple], count_label: str, viewers: dict) -> str:
    """What the first page of a list looks like, in 20 characters: its rows and their last
    change, the next row, the count, and who else is viewing or typing in them. The poll sends
    it back and gets 204 while it holds (``list_poll``)."""
    shown = sorted(
        (pk, [(v["name"], v["typing"]) for v in people]) for pk, people in viewers.items()
    )
    digest = hashlib.sha256(repr((keys, count_label, shown)).encode())
    return digest.hexdigest()[:20]


def _file_limits(ticket: Ticket) -> dict | None:
    from inbox.media import outbound
    from inbox.media.outbound import limits_text

    limits = ticket.channel.connector_class.attachment_limits
    if not limits or outbound.files_need_public_url(ticket.channel.connector_class):
        return None
    return {
        "accept": ",".join(limits.get("mime_types") or ()),
        "max_bytes": max(
            [
                limits.get("max_bytes", 0),
                *(limits.get("max_bytes_by_kind") or {}).values(),
                *(limits.get("max_bytes_by_type") or {}).values(),
            ]
        ),
        "max_count": limits.get("max_count", 1),
        "text": limits_text(limits),
    }


def _thread_context(request: AuthedRequest, ticket: Ticket) -> dict:
    messages = thread_messages(ticket)
    check = reply_services.composer_state(ticket)
    last_id = max((m.pk for m in messages), default=0)
    return {
        "ticket": ticket,
        "messages": messages,
        "last_message_id": last_id,
        "check": check,
        "others": thread_pane.other_tickets(request.user, ticket),
        "presence_others": presence.others(ticket.pk, request.user),
        "can_assign": access.can_assign(request.user),
        # The assign control: each agent with their open tickets, capacity, availability, shift.
        "assign_choices": assignment.assign_choices() if access.can_assign(request.user) else [],
        "close_reasons": [
            ("", translation.gettext("Close")),
            ("no_reply_needed", translation.gettext("No reply needed")),
            ("spam", translation.gettext("Spam")),
            ("duplicate", translation.gettext("Duplicate")),
        ],
        "signature": request.profile.signature,
        "claimed_self": thread_pane.claimed_by_holder(ticket),
        "limit": check.limit,
        # Files an agent may attach here, shown before sending (None: no picker).
        "file_limits": _file_limits(ticket),
        # Why there is no picker on a channel that takes files (no public address for them).
        "file_notice": _file_notice(ticket),
        # Four-eyes review: tell the author before sending that the reply goes to a lead.
        "approval": _approval_notice(request, ticket),
        # "Why is this here?": intent and its evidence, priority parts, rules, due time.
        "why": thread_pane.ticket_why(ticket, messages),
        "intents": Intent.choices,
        "incidents": thread_pane.ticket_incidents(request.user, ticket),
    }


def _file_notice(ticket: Ticket) -> str:
    from inbox.media import outbound

    cls = ticket.channel.connector_class
    return outbound.public_url_needed() if outbound.files_need_public_url(cls) else ""


def _approval_notice(request: AuthedRequest, ticket: Ticket) -> str:
    """The composer's notice: "all" when every reply of this user here waits for a lead,
    "public" when public ones do, "" when none (no query: profile and channel are loaded)."""

    def held(mode: str) -> bool:
        return reply_needs_approval(
            user=request.user, channel=ticket.channel, mode=mode, profile=request.profile
        )

    if held("dm") or held("private"):
        return "all"
    return "public" if held("public") else ""


def _load_ticket(request: AuthedRequest, ticket_id: int) -> Ticket:
    return access.ticket_for(
        request.user,
        ticket_id,
        Ticket.objects.select_related(
            "channel", "identity", "customer", "customer__merged_into", "assignee", "team"
        ).prefetch_related("tags"),
    )


# --- pages ------------------------------------------------------------------------------------
@require_GET
@inbox_view
def index(request: AuthedRequest) -> HttpResponse:
    flt = _list_filter(request)
    context = {**_filters_context(request, flt), **_list_context(request, flt)}
    if _wants_fragment(request):
        # The list, and out of band what else carries the filters (the views' links, the bulk
        # form's way back): a filter changed through htmx leaves nothing on the old ones.
        return render(request, f"{PAGE}#list_swap", context)
    context["arrival_sound"] = _arrival_sound(request)
    return render(request, PAGE, context)


def _arrival_sound(request: AuthedRequest) -> bool:
    """Whether the agent asked for a chime on new arrivals (their profile; off by default)."""
    try:
        return bool(AgentProfile.objects.get(user=request.user.pk).arrival_sound)
    except AgentProfile.DoesNotExist:
        return False


@require_GET
@inbox_view
def list_poll(request: AuthedRequest) -> HttpResponse:
    """The list fragment, or 204 while the first page looks as it did (``stamp``): three
    statements instead of seven and no rendering, however much changes further down."""
    flt = _list_filter(request)
    stamp = request.GET.get("stamp")
    first = None
    wanted = stamp and not request.GET.get("force")
    found = selectors.first_page_keys(request.user, flt) if wanted else None
    if found is not None:
        keys, count_label = found
        ids = [key[0] for key in keys[: selectors.PAGE_SIZE]]
        first = (keys, count_label, presence.others_many(ids, request.user))
        if stamp == page_stamp(*first):
            return HttpResponse(status=204)
    context = _list_context(request, flt, first)
    selected = request.GET.get("t", "")
    context["selected_id"] = int(selected) if selected.isdigit() else None
    return render(request, f"{PAGE}#list", context)


@require_GET
@inbox_view
def thread(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = _load_ticket(request, ticket_id)
    presence.presence_touch(ticket_id=ticket.pk, user=request.user, typing=False)
    if ticket.channel.platform == "whatsapp":
        from channels.whatsapp.receipts import read_receipt_on_open

        read_receipt_on_open(ticket)  # the customer sees their message read (a channel setting)
    context = _thread_context(request, ticket)
    if _wants_fragment(request):
        return render(request, f"{PAGE}#thread", context)
    flt = _list_filter(request)
    context.update(_filters_context(request, flt))
    context.update(_list_context(request, flt))
    context["selected_id"] = ticket.pk
    context["arrival_sound"] = _arrival_sound(request)
    return render(request, PAGE, context)


@require_GET
@inbox_view
def thread_poll(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Head and messages of the thread when its version moved; 204 otherwise.

    The composer is not part of the answer, so a half-written reply is never touched.
    """
    ticket = _load_ticket(request, ticket_id)
    if request.GET.get("v") == str(ticket.version):
        return HttpResponse(status=204)
    return render(request, f"{PAGE}#live", _thread_context(request, ticket))


@require_POST
@inbox_view
def presence_beat(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = access.ticket_for(request.user, ticket_id)
    presence.presence_touch(
        ticket_id=ticket.pk, user=request.user, typing=request.POST.get("typing") == "1"
    )
    return render(
        request,
        f"{PAGE}#presence",
        {"ticket": ticket, "presence_others": presence.others(ticket.pk, request.user)},
    )


@require_POST
@inbox_view
def reply(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Send a reply or add a note. On success the composer comes back empty; on a collision or
    an error it comes back with the text kept and the reason, and the thread shows what's new."""
    ticket = access.ticket_for(request.user, ticket_id)
    mode = request.POST.get("mode", "public")
    text = request.POST.get("text", "")
    seen_raw = request.POST.get("seen_message_id", "")
    error = ""
    latest = None
    try:
        if mode == "note":
            services.note_add(ticket_id=ticket.pk, user=request.user, text=text)
        else:
            reply_services.reply_send(
                ticket_id=ticket.pk,
                user=request.user,
                text=text,
                mode=mode,
                seen_message_id=int(seen_raw) if seen_raw.isdigit() else None,
                option=request.POST.get("option", ""),
                close=request.POST.get("and_close") == "1",
                files=request.FILES.getlist("files"),
            )
    except services.Collision as exc:
        error, latest = exc.message, exc.latest_message_id
    except services.ActionError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            return HttpResponse(error, status=409, content_type="text/plain")
        return redirect(reverse("inbox:thread", args=[ticket.pk]))
    ticket = _load_ticket(request, ticket.pk)
    context = _thread_context(request, ticket)
    context.update({"error": error, "draft": text if error else "", "mode": mode})
    if latest is None and error:
        context["last_message_id"] = int(seen_raw) if seen_raw.isdigit() else 0
    response = render(request, f"{PAGE}#reply_result", context)
    response["HX-Trigger"] = "inbox:changed"
    return response


@require_POST
@inbox_view
def bulk(request: AuthedRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    ids = [int(i) for i in request.POST.getlist("ticket") if i.isdigit()]
    if not ids:
        return _bulk_refused(
            request, translation.gettext("Nothing is ticked: tick the tickets to change first.")
        )
    if action == "assign":
        access.require_assign(request.user)
    visible = set(
        access.visible_tickets(request.user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    if set(ids) - visible:
        raise PermissionDenied("Some of these tickets are not yours to change.")
    assignee = None
    raw = request.POST.get("assignee", "")
    if action == "assign" and raw:
        # An unknown person is refused, not read as "nobody" (which would unassign them all).
        assignee = get_user_model().objects.filter(pk=raw if raw.isdigit() else 0).first()
        if assignee is None:
            return _bulk_refused(request, translation.gettext("No such agent."))
    tag = request.POST.get("tag", "")
    try:
        done = services.tickets_bulk(
            ticket_ids=ids, user=request.user, action=action, tag=tag, assignee=assignee
        )
    except services.ActionError as exc:
        return _bulk_refused(request, exc.message)
    if request.htmx:
        # Said where the buttons are; the list reloads itself on "inbox:changed".
        response = render(
            request, f"{PAGE}#bulk_error", {"bulk_done": _bulk_done(action, done, tag, assignee)}
        )
        response["HX-Retarget"] = "#bulk-error"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Trigger"] = "inbox:changed"
        return response
    # Back to the list the selection was made in, if ``next`` is one of our pages.
    return redirect_to_next(request, fallback="inbox:index")


def _bulk_done(action: str, n: int, tag: str, assignee) -> str:
    """What a bulk action did, in a sentence."""
    if action == "close":
        return translation.ngettext("Closed %(n)d ticket.", "Closed %(n)d tickets.", n) % {"n": n}
    if action == "tag":
        return translation.ngettext(
            "Tagged %(n)d ticket “%(tag)s”.", "Tagged %(n)d tickets “%(tag)s”.", n
        ) % {"n": n, "tag": tag.strip()}
    if assignee is None:
        return translation.ngettext("Unassigned %(n)d ticket.", "Unassigned %(n)d tickets.", n) % {
            "n": n
        }
    return translation.ngettext(
        "Assigned %(n)d ticket to %(name)s.", "Assigned %(n)d tickets to %(name)s.", n
    ) % {"n": n, "name": assignee.get_full_name() or assignee.get_username()}


def _bulk_refused(request: AuthedRequest, message: str) -> HttpResponse:
    """Why a bulk action changed nothing: shown above the list (htmx), or a plain-text 400."""
    if not request.htmx:
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    response = render(request, f"{PAGE}#bulk_error", {"bulk_error": message})
    response["HX-Retarget"] = "#bulk-error"
    response["HX-Reswap"] = "outerHTML"
    return response


# --- composer helpers -------------------------------------------------------------------------
@require_GET
@inbox_view
def canned(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = _load_ticket(request, ticket_id)
    q = request.GET.get("q", "").strip()[:100]
    replies = CannedReply.objects.filter(
        Q(team__isnull=True) | Q(team_id__in=access.team_ids(request.user))
    )
    if q:
        replies = replies.filter(Q(title__icontains=q) | Q(body__icontains=q))
    found = [
        (c, reply_services.canned_fill(canned=c, ticket=ticket, user=request.user))
        for c in replies[:8]
    ]
    return render(request, f"{PAGE}#canned", {"found": found, "ticket": ticket})


@require_GET
@inbox_view
def tag_suggest(request: AuthedRequest) -> HttpResponse:
    q = services.tag_name_clean(request.GET.get("name", ""))
    tags = Tag.objects.filter(name__startswith=q)[:10] if q else Tag.objects.none()
    return render(request, f"{PAGE}#tag_options", {"tag_options": tags})


@require_POST
@inbox_view
def count(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The platform's own count of the reply (X weighs characters), for the live counter."""
    ticket = access.ticket_for(request.user, ticket_id)
    cls = ticket.channel.connector_class
    full = reply_services.reply_text(
        text=request.POST.get("text", ""), signature=request.profile.signature
    )
    return render(
        request,
        f"{PAGE}#counter",
        {"used": cls.count_text(full), "limit": cls.text_limit},
    )


@login_required
@require_GET
def crm(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The thread's CRM panel, fetched by htmx after the thread rendered (inbox.customers.crm)."""
    from inbox.customers.crm import crm_panel

    access.require_work(request.user)
    ticket = access.ticket_for(request.user, ticket_id, Ticket.objects.select_related("customer"))
    panel = crm_panel(ticket.customer)
    return render(request, "inbox/customers/crm_panel.html", {"panel": panel, "ticket": ticket})
