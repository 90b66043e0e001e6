"""Incidents and the dashboard's figures (leads and admins)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from inbox.api.endpoints.base import ERRORS, QueryIn
from inbox.core import access
from inbox.models import (
    Incident,
)

# --- incidents, dashboard, audit ----------------------------------------------------------------
router = Router(tags=["reports"])


class IncidentOut(Schema):
    id: int
    title: str
    status: str
    declared_at: dt.datetime
    resolved_at: dt.datetime | None
    ticket_ids: list[int]


@router.get("/incidents", response={200: list[IncidentOut], **ERRORS})
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


class DashboardIn(QueryIn):
    range: Literal["", "today", "7d", "30d"] = ""
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    team: int | None = Field(None, ge=1, le=2**31 - 1)


@router.get("/dashboard", response={200: dict[str, Any], **ERRORS})
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
