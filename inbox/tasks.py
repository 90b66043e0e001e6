"""Celery tasks of the inbox engines: thin, id-based, idempotent; the work is in the modules."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def priority_refresh() -> int:
    from inbox.engines.priority import priority_refresh as refresh

    return refresh()


@shared_task(ignore_result=True)
def assign_team(team_id: int) -> int:
    """One fair-assignment run for a team; safe to run twice or concurrently."""
    from inbox.engines.assignment import team_assign

    return len(team_assign(team_id=team_id))


@shared_task(ignore_result=True)
def assign_all_teams() -> int:
    """Safety net on a schedule: a run per automatic team (catches frees no service reported)."""
    from inbox.engines.assignment import auto_teams

    teams = auto_teams()
    for team_id in teams:
        assign_team.delay(team_id)
    return len(teams)


@shared_task(ignore_result=True)
def sla_sweep() -> int:
    from inbox.engines.sla import sla_sweep as sweep

    return sweep()


@shared_task(ignore_result=True, expires=60)
def wake_snoozed() -> int:
    """Every minute: snoozed tickets whose time has come are open again."""
    from inbox.tickets.services import snoozed_wake

    return len(snoozed_wake())


# The media area's tasks, registered with the worker through this module (Celery discovers
# ``<app>.tasks`` only).
from .media.tasks import attachment_fetch, attachments_fetch, media_expire  # noqa: E402, F401
