"""Celery tasks of the inbox engines: thin, id-based, idempotent; the work is in the modules."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def priority_refresh() -> int:
    from .priority import priority_refresh as refresh

    return refresh()
