"""Fixtures of the Facebook channel tests."""

import pytest

from tests.channels.facebook.support import APP_SECRET, VERIFY_TOKEN


@pytest.fixture
def meta_settings(settings):
    settings.META_APP_SECRET = APP_SECRET
    settings.META_WEBHOOK_VERIFY_TOKEN = VERIFY_TOKEN
    settings.META_APP_ID = "1517776481860111"
    return settings


@pytest.fixture
def run_tasks_now(monkeypatch):
    """Run the Facebook tasks' ``.delay`` in-process, recording each call."""
    from channels.facebook import tasks

    calls = []
    for name in ("process_webhook", "token_check_channel"):
        task = getattr(tasks, name)

        def delay(*args, _task=task, **kwargs):
            calls.append((_task.name, args))
            return _task(*args, **kwargs)

        monkeypatch.setattr(task, "delay", delay)
    return calls
