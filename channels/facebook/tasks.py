"""Celery tasks of the Facebook channels: thin, and safe to run twice."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from celery import shared_task

from ..base import InboundItem
from ..health import record_policy_enforcement
from ..meta.store import store_per_channel
from ..models import Channel
from . import normalize
from .tokens import channels_for_page, meta_channels, token_check

log = logging.getLogger(__name__)


@shared_task(name="channels.facebook.process_webhook", ignore_result=True)
def process_webhook(payload: dict[str, Any]) -> str:
    """Store what one verified Page webhook delivery holds.

    ``feed``, ``mention`` and ``ratings`` changes go to the Page's "facebook" channels,
    ``messaging`` events to its "messenger" channels, each through the normaliser the polls use
    (``normalize.entry_results``); a policy enforcement shows on the Messenger channels'
    health. All entries of the delivery are gathered per channel and stored in one batch, so
    an event repeated across entries (or redelivered by Meta) is stored once. One channel's
    failure does not stop the others; it is raised at the end so the task shows as failed.
    """
    items: dict[int, list[InboundItem]] = defaultdict(list)
    moderations: dict[int, list[normalize.Moderation]] = defaultdict(list)
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        page_id = str(entry["id"])
        channels = list(channels_for_page(page_id))
        if not channels:
            log.warning("Meta webhook for unknown Page %s ignored", page_id)
            continue
        found = normalize.entry_results(entry, page_id=page_id)
        for channel in channels:
            results = found.feed if channel.kind == "facebook" else found.messaging
            for result in results:
                if isinstance(result, normalize.Moderation):
                    moderations[channel.pk].append(result)
                else:
                    items[channel.pk].append(result)
            if channel.kind == "messenger":
                for notice in found.policy:
                    record_policy_enforcement(channel.pk, notice.action, notice.reason)
    return store_per_channel(items, moderations, prepare=_with_profiles)


def _with_profiles(channel_id: int, items: list[InboundItem]) -> list[InboundItem]:
    """Give webhook DMs from people we know no name of their Messenger name and picture.

    One User Profile call per new person per delivery; people already named are not asked
    again. Without it a DM by webhook shows a bare number until the next poll.
    """
    from dataclasses import replace

    from inbox.models import Identity

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or channel.kind != "messenger":
        return items
    unnamed = {
        i.author.platform_user_id
        for i in items
        if i.author is not None and not i.is_ours and not i.author.display_name
    }
    if not unnamed:
        return items
    named = set(
        Identity.objects.filter(platform=channel.platform, platform_user_id__in=unnamed)
        .exclude(display_name="")
        .values_list("platform_user_id", flat=True)
    )
    connector = channel.connector()
    profiles = {psid: connector.profile(psid) for psid in sorted(unnamed - named)}
    return [
        replace(i, author=profiles[i.author.platform_user_id])
        if i.author is not None and profiles.get(i.author.platform_user_id)
        else i
        for i in items
    ]


@shared_task(name="channels.facebook.token_check_channel", ignore_result=True)
def token_check_channel(channel_id: int) -> str:
    channel = Channel.objects.filter(pk=channel_id, enabled=True).first()
    if channel is None:
        return "skipped: gone or disabled"
    return token_check(channel)


@shared_task(name="channels.facebook.token_check_all", ignore_result=True)
def token_check_all() -> int:
    """Daily (a beat schedule made by a migration): queue one check per Facebook channel."""
    ids = list(meta_channels().values_list("pk", flat=True))
    for pk in ids:
        token_check_channel.delay(pk)
    return len(ids)


@shared_task(name="channels.facebook.link_private_reply", ignore_result=True)
def link_private_reply(channel_id: int, commenter_uid: str, psid: str) -> str:
    from .identities import identity_link_messenger_id

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return "skipped: channel gone"
    identity = identity_link_messenger_id(
        platform=channel.platform, commenter_uid=commenter_uid, psid=psid
    )
    return "linked" if identity else "nothing to link"
