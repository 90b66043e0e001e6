"""The admins' and leads' start page: channel health at a glance and the way to every setting.

In the reports area (the leads' overview pages), above every area whose page it links to."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from channels.overview import health_overview
from inbox.core.access import can_configure
from inbox.core.decorators import lead_required
from inbox.replies.review import approvals_waiting_count
from webcare.http import AuthedRequest


@dataclass(frozen=True)
class Area:
    url_name: str
    label: str | Promise  # translated when the page renders (gettext_lazy)
    help: str | Promise
    admin_only: bool = False


# Every settings area, in the order a lead works through them. Areas whose page does not exist
# (yet) are left out of the list rather than failing the page.
AREAS = (
    Area("channels:list", _("Channels"), _("Connect, configure, test and pause."), True),
    Area("pages:people", _("People and teams"), _("Users, roles, teams, capacity, shifts.")),
    Area("pages:rules", _("Routing rules"), _("Which team, tags and priority tickets get.")),
    Area("pages:hours", _("Hours and SLA"), _("Business hours, response targets, auto-replies.")),
    Area("pages:canned", _("Canned replies"), _("Saved answers for the composer.")),
    Area("pages:review", _("Review queue"), _("Replies waiting for approval.")),
    Area("pages:incidents", _("Incidents"), _("Known faults and one answer to all.")),
    Area("pages:dashboard", _("Dashboard"), _("Volumes, response times, SLA attainment.")),
    Area("pages:audit", _("Audit log"), _("Who changed what, and when.")),
    Area("pages:webhooks", _("Webhooks"), _("Events sent to other systems, and their log."), True),
)


def settings_links(user: User) -> list[dict[str, str | Promise]]:
    """The areas ``user`` may open, with their URLs; names not (yet) defined are skipped."""
    links = []
    admin = can_configure(user)
    for area in AREAS:
        if area.admin_only and not admin:
            continue
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            continue
        links.append({"url": url, "label": area.label, "help": area.help, "name": area.url_name})
    return links


@require_GET
@lead_required
def start(request: AuthedRequest) -> HttpResponse:
    channels = health_overview()
    return render(
        request,
        "inbox/reports/start.html",
        {
            "channels": channels,
            "attention": [c for c in channels if c.attention],
            "links": settings_links(request.user),
            "approvals_waiting": approvals_waiting_count(),
        },
    )


urlpatterns = [path("", start, name="start")]
