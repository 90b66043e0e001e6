"""Failed sends, told to the people who answer for them wherever they are in the app.

A reply can fail long after its author moved on (the platform refused it, the token expired):
the thread shows it as failed, but nobody looks there. The top bar of every page asks here on
its poll and shows a notice to the reply's author and to the lead who approved it, until they
dismiss it (the highest failure id they have seen is kept in their session).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import IntegerField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from inbox.models import Activity, DeliveryState, Direction, Message
from webcare.http import AuthedRequest

#: Failures older than this are not announced any more (the thread still shows them).
RECENT = dt.timedelta(hours=24)
SEEN_KEY = "failed_sends_seen"
SHOWN = 5


def failed_sends(*, user, after_id: int = 0, now: dt.datetime | None = None) -> list[Message]:
    """Recent failed replies that ``user`` wrote or approved, newest first (two queries)."""
    since = (now or timezone.now()) - RECENT
    approved = (
        Activity.objects.filter(verb="reply_approved", actor=user, created_at__gte=since - RECENT)
        .annotate(message_id=Cast(KeyTextTransform("message", "after"), IntegerField()))
        .values("message_id")
    )
    return list(
        Message.objects.filter(
            direction=Direction.OUTBOUND,
            delivery_state=DeliveryState.FAILED,
            delivery_changed_at__gte=since,
            pk__gt=after_id,
        )
        .filter(Q(author_user=user) | Q(pk__in=approved))
        .select_related("ticket")
        .order_by("-pk")[:SHOWN]
    )


@login_required
@require_GET
def notice(request: AuthedRequest) -> HttpResponse:
    """The top bar's notice (polled): the failures not dismissed yet, or nothing."""
    seen = int(request.session.get(SEEN_KEY, 0) or 0)
    failures = failed_sends(user=request.user, after_id=seen)
    return render(request, "inbox/replies/failed_notice.html", {"failures": failures})


@login_required
@require_POST
def dismiss(request: AuthedRequest) -> HttpResponse:
    """Seen: the notice goes, until a newer failure."""
    raw = request.POST.get("upto", "")
    if raw.isdigit():
        request.session[SEEN_KEY] = max(int(raw), int(request.session.get(SEEN_KEY, 0) or 0))
    return render(request, "inbox/replies/failed_notice.html", {"failures": []})


urlpatterns = [
    path("notice/", notice, name="failed_notice"),
    path("notice/dismiss/", dismiss, name="failed_dismiss"),
]
