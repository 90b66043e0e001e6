"""The audit log: every activity row, filterable.

Leads and admins may read it (leads see every team's tickets anyway, and they change rules,
shifts and capacities themselves); nobody can change it here. Settings rows never hold secrets:
channel credentials and passwords appear only as "changed"/"set".
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from inbox.audit.selectors import AuditFilter, audit_page, known_verbs
from inbox.audit.verbs import verb_label
from inbox.core.decorators import lead_required
from webcare.http import AuthedRequest


@require_GET
@lead_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    flt = AuditFilter.from_query(request.GET)
    page = audit_page(flt)
    people = (
        get_user_model()
        .objects.filter(groups__name__in=["agent", "lead", "admin"])
        .distinct()
        .order_by("first_name", "username")
        .only("id", "username", "first_name", "last_name")
    )
    return render(
        request,
        "inbox/audit/log.html",
        {
            "flt": flt,
            "page": page,
            "people": people,
            "verbs": sorted(((v, verb_label(v)) for v in known_verbs()), key=lambda p: p[1]),
            "query": flt.query(),
        },
    )


urlpatterns = [path("", audit_log, name="audit")]
