"""What the engines read at ingest — routing rules, calendars, SLA targets, acknowledgement
texts — kept in memory.

Loading them cost about 5 ms of every 500-message batch (five queries and the model objects),
for tables that change a few times a week. Each worker process keeps one copy, tagged with the
token of the ``EngineConfigStamp`` row it was loaded under; every batch reads the token (one
primary-key lookup) and reloads when it changed.

The token changes (``config_bump``, in ``inbox.engines.config_stamp``) on every save or delete
of the models the engines read, including through Django admin or a plain ``save()``: receivers
on ``post_save``, ``post_delete`` and a rule's tags' ``m2m_changed``. Writes that bypass those
signals (``QuerySet.update``, ``bulk_update``) must call ``config_bump`` themselves, as
``rule_move`` does. The token is a
random number, not a counter: a rolled-back change restores the old token together with the old
rows, and no later change can produce a token an earlier configuration was cached under.

Read order matters: the token first, then the rows. A change committed in between is cached under
the older token and reloaded on the next batch; rows older than their token cannot happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save

from inbox.core.business_time import Calendars
from inbox.engines.config_stamp import config_bump, config_stamp
from inbox.engines.routing import load_rules
from inbox.engines.sla import AutoAcks, Targets
from inbox.models import (
    AutoAck,
    BusinessHours,
    Holiday,
    Incident,
    Rule,
    SlaTarget,
    Tag,
    Team,
)

# User fields a rule's trace or action depends on (``routing._assigns``, ``_actions``): other
# saves, such as the last-login update on every sign-in, leave the configuration as it is.
_USER_FIELDS = frozenset({"is_active", "username"})


@dataclass(frozen=True)
class EngineConfig:
    """The enabled rules in order, every calendar, SLA target and acknowledgement text."""

    rules: list[Rule]
    calendars: Calendars
    targets: Targets
    acks: AutoAcks


_cached: tuple[int, EngineConfig] | None = None


def config_load() -> EngineConfig:
    return EngineConfig(
        rules=load_rules(), calendars=Calendars(None), targets=Targets(None), acks=AutoAcks(None)
    )


_UNREAD = object()


def engine_config(token: Any = _UNREAD) -> EngineConfig:
    """The configuration as of this transaction's view of the token: the cached copy while
    the token is unchanged, else a fresh load (cached under that token). Ingest passes the
    token it read with the channel row (``Channel.engine_stamp``); read here otherwise."""
    global _cached
    if token is _UNREAD:
        token = config_stamp()
    if token is not None and _cached is not None and _cached[0] == token:
        return _cached[1]
    config = config_load()
    _cached = (token, config) if token is not None else None
    return config


def _on_change(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # loaddata: the fixture's own rows, the token comes with them or not at all
    config_bump()


def _on_tags_changed(sender: Any, action: str = "", **kwargs: Any) -> None:
    if action.startswith("post_"):
        config_bump()


def _on_user_saved(sender: Any, update_fields=None, **kwargs: Any) -> None:
    if update_fields is not None and _USER_FIELDS.isdisjoint(update_fields):
        return
    _on_change(sender, **kwargs)


def connect() -> None:
    """Called once from ``InboxConfig.ready``."""
    for model in (Rule, BusinessHours, Holiday, SlaTarget, AutoAck, Team, Tag, Incident):
        uid = f"inbox.engine_config.{model.__name__}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + ".delete")
    m2m_changed.connect(
        _on_tags_changed, sender=Rule.add_tags.through, dispatch_uid="inbox.engine_config.rule_tags"
    )
    user = get_user_model()
    post_save.connect(_on_user_saved, sender=user, dispatch_uid="inbox.engine_config.user.save")
    post_delete.connect(_on_change, sender=user, dispatch_uid="inbox.engine_config.user.delete")
