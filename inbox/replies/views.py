"""Four-eyes review: the queue of replies awaiting approval and closed-thread coaching.

Leads (and admins) approve, edit and approve, or return held replies (``inbox.replies.review``), and
score closed threads with a coaching note. Every agent reads the reviews of their own threads
under "My coaching". Each action goes through a service in ``inbox.replies.review``, which writes
the audit row.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.core import access
from inbox.core.decorators import lead_required
from inbox.models import (
    DeliveryState,
    Direction,
    Message,
    ThreadReview,
    Ticket,
    TicketStatus,
)
from inbox.replies.review import (
    approvals_waiting_count,
    reply_approve,
    reply_body,
    reply_return,
    thread_review_create,
)
from inbox.tickets.services import ActionError
from inbox.tickets.thread import thread_messages
from webcare.http import AuthedRequest

User = get_user_model()

PAGE = "inbox/replies/review/queue.html"
# The queue shows the oldest this many; a longer queue is a staffing problem the count shows.
QUEUE_LIMIT = 100
CLOSED_LIMIT = 50

SCORES = [
    (5, gettext_lazy("5 · excellent")),
    (4, gettext_lazy("4 · good")),
    (3, gettext_lazy("3 · fine")),
    (2, gettext_lazy("2 · needs work")),
    (1, gettext_lazy("1 · poor")),
]


class ThreadReviewForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("Score"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Coaching note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _with_context():
    """Outbound replies with what a lead needs to judge them: ticket, channel, customer, agent
    (and their signature) joined, the customer's last words as a subquery."""
    last_inbound = (
        Message.objects.filter(ticket_id=OuterRef("ticket_id"), direction=Direction.INBOUND)
        .order_by("-sent_at", "-id")
        .values("text")[:1]
    )
    return (
        Message.objects.filter(direction=Direction.OUTBOUND)
        .select_related(
            "author_user",
            "author_user__profile",
            "ticket",
            "ticket__channel",
            "ticket__identity",
            "ticket__customer",
        )
        .annotate(customer_said=Subquery(last_inbound))
    )


#: A held reply as the queue shows it: the message, the text the lead edits (the reply without
#: the agent's signature) and the channel's length limit.
HeldRow = tuple[Message, str, int | None]


def _held_replies() -> list[HeldRow]:
    """Replies awaiting approval, oldest first: the same queries whatever the length."""
    rows = list(
        _with_context()
        .filter(delivery_state=DeliveryState.AWAITING_APPROVAL)
        .order_by("created_at", "id")[:QUEUE_LIMIT]
    )
    return [_prepare(m) for m in rows]


def _prepare(m: Message) -> HeldRow:
    profile = getattr(m.author_user, "profile", None) if m.author_user_id else None
    body = reply_body(m, profile.signature if profile else "")
    return m, body, m.ticket.channel.connector_class.text_limit


def _tabs_context() -> dict:
    return {"waiting": approvals_waiting_count()}


@require_GET
@lead_required
def queue(request: AuthedRequest) -> HttpResponse:
    return render(request, PAGE, {**_tabs_context(), "tab": "replies", "rows": _held_replies()})


def _one_held(message_id: int) -> HeldRow:
    return _prepare(get_object_or_404(_with_context(), pk=message_id))


def _decided(request: AuthedRequest, message_id: int, *, done: str, error: str) -> HttpResponse:
    """htmx: the row again, with the outcome (or the error and the form kept); else back to
    the queue with a flash message."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("pages:review")
    m, body, limit = _one_held(message_id)
    if error and request.POST.get("text") is not None:
        body = request.POST["text"]
    context = {"m": m, "body": body, "limit": limit, "done": done, "error": error}
    response = render(request, f"{PAGE}#row", context)
    response["HX-Trigger"] = "review:changed"
    return response


@require_POST
@lead_required
def approve(request: AuthedRequest, message_id: int) -> HttpResponse:
    """Approve as written, or (with ``text``) as the lead edited it."""
    get_object_or_404(Message, pk=message_id, direction=Direction.OUTBOUND)
    text = request.POST.get("text")
    try:
        reply_approve(message_id=message_id, lead=request.user, text=text)
    except ActionError as exc:
        return _decided(request, message_id, done="", error=exc.message)
    return _decided(request, message_id, done=_("Approved; it is being sent."), error="")


@require_POST
@lead_required
def return_reply(request: AuthedRequest, message_id: int) -> HttpResponse:
    get_object_or_404(Message, pk=message_id, direction=Direction.OUTBOUND)
    try:
        reply_return(
            message_id=message_id, lead=request.user, comment=request.POST.get("comment", "")
        )
    except ActionError as exc:
        return _decided(request, message_id, done="", error=exc.message)
    return _decided(request, message_id, done=_("Returned to its author."), error="")


@require_GET
@lead_required
def waiting_count(request: AuthedRequest) -> HttpResponse:
    """The count on the tab, refreshed after each decision; with ``nav`` the bare number for
    the top bar (empty when nothing waits)."""
    if request.GET.get("nav"):
        waiting = approvals_waiting_count()
        return HttpResponse(str(waiting) if waiting else "", content_type="text/plain")
    return render(request, f"{PAGE}#count", _tabs_context())


# --- coaching ---------------------------------------------------------------------------------
def _agents():
    return (
        User.objects.filter(is_active=True, groups__name__in=["agent", "lead", "admin"])
        .distinct()
        .order_by("first_name", "username")
        .only("id", "username", "first_name", "last_name")
    )


@require_GET
@lead_required
def closed(request: AuthedRequest) -> HttpResponse:
    """Recently closed threads nobody has reviewed yet, optionally one agent's.

    "Recently" is by last change (``ticket_updated`` index, read backwards): closing is the
    last change of a closed thread, and it needs no index of its own on ``closed_at``.
    """
    raw = request.GET.get("agent", "")
    agent_id = int(raw) if raw.isdigit() else None
    tickets = (
        Ticket.objects.filter(status=TicketStatus.CLOSED, assignee__isnull=False)
        .exclude(Exists(ThreadReview.objects.filter(ticket_id=OuterRef("pk"))))
        .select_related("channel", "identity", "customer", "assignee")
        .order_by("-updated_at", "-id")
    )
    if agent_id:
        tickets = tickets.filter(assignee_id=agent_id)
    return render(
        request,
        PAGE,
        {
            **_tabs_context(),
            "tab": "closed",
            "tickets": list(tickets[:CLOSED_LIMIT]),
            "agents": _agents(),
            "agent_id": agent_id,
        },
    )


@require_http_methods(["GET", "POST"])
@lead_required
def thread(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """One closed thread, read-only, with its reviews and the form for a new one."""
    ticket = get_object_or_404(
        Ticket.objects.select_related("channel", "identity", "customer", "assignee"),
        pk=ticket_id,
    )
    form = ThreadReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            thread_review_create(
                ticket_id=ticket.pk,
                reviewer=request.user,
                score=form.cleaned_data["score"],
                note=form.cleaned_data["note"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Review saved; the agent sees it under My coaching."))
            return redirect(reverse("pages:review_closed"))
    reviews = ticket.thread_reviews.select_related("reviewer").order_by("-created_at")
    return render(
        request,
        "inbox/replies/review/thread.html",
        {
            "ticket": ticket,
            "messages_": thread_messages(ticket),
            "reviews": list(reviews),
            "form": form,
        },
    )


@require_GET
@login_required
def mine(request: AuthedRequest) -> HttpResponse:
    """The reviews of the signed-in agent's own threads, newest first."""
    access.require_work(request.user)
    reviews = (
        ThreadReview.objects.filter(agent=request.user)
        .select_related("reviewer", "ticket", "ticket__channel", "ticket__identity")
        .order_by("-created_at", "-id")[:100]
    )
    returned = (
        Message.objects.filter(
            author_user=request.user,
            direction=Direction.OUTBOUND,
            delivery_state__in=[DeliveryState.RETURNED, DeliveryState.AWAITING_APPROVAL],
        )
        .select_related("ticket")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "inbox/replies/review/mine.html",
        {"reviews": list(reviews), "held": list(returned)},
    )


urlpatterns = [
    path("", queue, name="review"),
    path("count/", waiting_count, name="review_count"),
    path("reply/<int:message_id>/approve/", approve, name="review_approve"),
    path("reply/<int:message_id>/return/", return_reply, name="review_return"),
    path("closed/", closed, name="review_closed"),
    path("closed/<int:ticket_id>/", thread, name="review_thread"),
    path("mine/", mine, name="review_mine"),
]
