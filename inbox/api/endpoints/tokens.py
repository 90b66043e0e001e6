"""API tokens: created and revoked by their user or an admin."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.contrib.auth import get_user_model
from ninja import Field, Router, Schema, Status

from inbox.api import services as api_services
from inbox.api.endpoints.base import ERRORS, _id
from inbox.core import access

# --- tokens and webhooks ------------------------------------------------------------------------
router = Router(tags=["tokens and webhooks"])


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


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def token_list(request):
    """Your tokens; an admin sees everyone's."""
    from inbox.models import ApiToken

    qs = ApiToken.objects.order_by("-pk")
    if not access.can_configure(request.user):
        qs = qs.filter(user=request.user)
    return [_token(t) for t in qs[:500]]


@router.post("/tokens", response={201: TokenCreated, **ERRORS})
def token_create(request, body: TokenIn):
    owner = request.user
    if body.user_id is not None and body.user_id != request.user.pk:
        owner = get_user_model().objects.get(pk=body.user_id)
    token, raw = api_services.token_create(
        user=request.user, owner=owner, name=body.name, scope=body.scope
    )
    return Status(201, {**_token(token), "token": raw})


@router.delete("/tokens/{token_id}", response={200: TokenOut, **ERRORS})
def token_revoke(request, token_id: int):
    from inbox.models import ApiToken

    visible = ApiToken.objects.all()
    if not access.can_configure(request.user):
        visible = visible.filter(user=request.user)
    token = visible.get(pk=_id(token_id))
    return _token(api_services.token_revoke(user=request.user, token_id=token.pk))
