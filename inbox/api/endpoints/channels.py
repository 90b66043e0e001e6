"""Channels: their health; changes for admins."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema

from channels.models import Channel
from inbox.api.endpoints.base import ERRORS, _id
from inbox.core import access

# --- channels ---------------------------------------------------------------------------------
router = Router(tags=["channels"])


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


@router.get("/channels", response={200: list[ChannelOut], **ERRORS})
def channel_list(request):
    access.require_work(request.user)
    return [_channel(c) for c in Channel.objects.order_by("name", "pk")]


class ChannelIn(Schema):
    enabled: bool | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    poll_interval: int | None = Field(None, ge=15, le=86_400)


@router.patch("/channels/{channel_id}", response={200: ChannelOut, **ERRORS})
def channel_update(request, channel_id: int, body: ChannelIn):
    """Admins only (as the channels page)."""
    from channels.services import channel_update as update

    if not access.can_configure(request.user):
        raise PermissionDenied("Only admins change channels.")
    channel = Channel.objects.get(pk=_id(channel_id))
    changes = {k: v for k, v in body.dict().items() if v is not None}
    return _channel(update(channel=channel, actor=request.user, **changes))
