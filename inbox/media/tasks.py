"""Celery tasks of the media area: thin and id-based; the work is in ``services``."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=None)
def attachment_fetch(self, attachment_id: int) -> str:
    """Fetch one attachment; a passing failure comes back after a doubling wait (the service
    counts the attempts and gives up after ``MEDIA_FETCH_ATTEMPTS``)."""
    from .services import attachment_fetch as fetch

    outcome = fetch(attachment_id=attachment_id)
    if outcome is None:
        return "skipped"
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task(ignore_result=True, acks_late=True)
def attachments_fetch(attachment_ids: list[int]) -> int:
    """The fetches of one ingest batch, queued as one task per attachment, so each retries on
    its own and one bad file never holds up the others."""
    for pk in attachment_ids:
        attachment_fetch.delay(pk)
    return len(attachment_ids)


@shared_task(ignore_result=True, expires=3600)
def media_expire() -> int:
    """Daily: delete stored media older than ``MEDIA_RETENTION_DAYS``."""
    from .services import media_expire as expire

    return expire()
