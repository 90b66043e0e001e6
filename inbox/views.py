from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import OPEN_STATUSES, Ticket


@login_required
def index(request: HttpRequest) -> HttpResponse:
    tickets = (
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .select_related("channel", "identity", "assignee")
        .order_by("waiting_since", "id")[:50]
    )
    return render(request, "inbox/index.html", {"tickets": tickets})
