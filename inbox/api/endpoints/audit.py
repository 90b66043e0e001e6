"""The audit log (leads and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Query, Schema

from inbox.api.endpoints.base import ERRORS, QueryIn
from inbox.api.endpoints.reports import router
from inbox.core import access


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


class AuditIn(QueryIn):
    actor: str = Field("", max_length=20, description='A user id, or "system".')
    ticket: int | None = Field(None, ge=1, le=2**63 - 1)
    verb: str = Field("", max_length=40)
    scope: Literal["", "tickets", "settings"] = ""
    after: str = Field("", max_length=80)


@router.get("/audit", response={200: AuditPageOut, **ERRORS})
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
