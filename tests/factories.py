"""Small builders for test data: real rows through real services, no magic."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from channels.base import InboundAuthor, InboundItem
from channels.models import Channel
from channels.services import channel_create

_seq = itertools.count(1)


def make_channel(kind: str = "simulator", **kwargs) -> Channel:
    n = next(_seq)
    kwargs.setdefault("name", f"{kind} channel {n}")
    kwargs.setdefault("settings", {"seed": n, "per_poll": 5})
    return channel_create(kind=kind, **kwargs)


def author(uid: str = "u1", **kwargs) -> InboundAuthor:
    kwargs.setdefault("handle", f"handle_{uid}")
    kwargs.setdefault("display_name", f"Customer {uid}")
    return InboundAuthor(platform_user_id=uid, **kwargs)


def item(
    external_id: str,
    *,
    thread: str = "t1",
    kind: str = "mention",
    text: str = "Where is my parcel?",
    at: dt.datetime | None = None,
    uid: str = "u1",
    **kwargs,
) -> InboundItem:
    kwargs.setdefault("author", None if kwargs.get("is_ours") else author(uid))
    return InboundItem(
        external_id=external_id,
        thread_key=thread,
        kind=kind,
        text=text,
        sent_at=at or timezone.now(),
        **kwargs,
    )
