"""The engines' configuration token (the ``EngineConfigStamp`` row): read with every batch, changed
with every change of what the engines read (see ``inbox.engines.engine_config``).

A module of its own so that the rule services (``routing.rule_move``) can change the token
without importing the configuration loader, which imports them.
"""

from __future__ import annotations

import secrets

from django.db.models import Subquery

from inbox.core import bulk
from inbox.models import EngineConfigStamp

STAMP_PK = 1


def config_stamp() -> int | None:
    """The current token; None when the row is missing (a flushed test database)."""
    # Plain SQL: the ORM's query building cost more than the lookup itself.
    rows = bulk.fetch("SELECT token FROM inbox_engineconfigstamp WHERE id = %s", [STAMP_PK])
    return rows[0][0] if rows else None


def config_stamp_subquery() -> Subquery:
    """The token as a column, for a query the caller makes anyway (ingest's channel lock)."""
    return Subquery(EngineConfigStamp.objects.filter(pk=STAMP_PK).values("token"))


def config_bump() -> None:
    """Give the configuration a new token, inside the caller's transaction."""
    token = secrets.randbits(62)
    if not EngineConfigStamp.objects.filter(pk=STAMP_PK).update(token=token):
        EngineConfigStamp.objects.bulk_create(
            [EngineConfigStamp(pk=STAMP_PK, token=token)], ignore_conflicts=True
        )
