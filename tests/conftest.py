"""Suite-wide fixtures and the rule about tests that need a service.

Tests marked ``postgres``, ``redis`` or ``browser`` need a real PostgreSQL, Redis or Chromium.
Where one is not configured they are deselected with a printed notice (a newcomer's laptop).
``WEBCARE_REQUIRE=postgres,redis,browser`` (CI) names the services that must be there: a test
that needs one of them and cannot run fails the run, and so does any skipped test.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings

from tests.browser import web  # noqa: F401 - the browser tests' fixture

REQUIRED = {s.strip() for s in os.environ.get("WEBCARE_REQUIRE", "").split(",") if s.strip()}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


CLOCK_SHIFT_DAYS = int(os.environ.get("WEBCARE_CLOCK_SHIFT_DAYS", "0") or 0)


def pytest_configure(config: pytest.Config) -> None:
    if CLOCK_SHIFT_DAYS:
        # The guard against tests that hold today's date: the whole run's clock is moved
        # (and keeps ticking), so a fixture with an absolute date that was "future" or "recent"
        # when it was written behaves as it will years from now, or did years ago.
        import datetime as dt

        import time_machine

        shifted = dt.datetime.now(dt.UTC) + dt.timedelta(days=CLOCK_SHIFT_DAYS)
        config._webcare_clock = time_machine.travel(shifted, tick=True)
        config._webcare_clock.start()
    if not settings.IS_POSTGRES:
        _live_server_one_request_at_a_time()
    # Password hashing is deliberately slow; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test starts with an empty cache of its own (presence, webhook replay guard); the
    # Redis cache backend has tests of its own (tests/test_cache.py).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _live_server_one_request_at_a_time() -> None:
    """On the embedded default the test database is SQLite in memory, and Django's live server
    hands every request thread the test's one connection. Two requests at once on it (a page's
    poll beside an agent's click) fail with "database table is locked", so the browser tests'
    server takes one request at a time there, as a single worker would. PostgreSQL keeps the
    threaded server: each request thread has a connection of its own."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class OneRequestAtATime(ThreadedWSGIServer):
        def set_app(self, application):
            lock = threading.Lock()

            def serialised(environ, start_response):
                with lock:
                    return application(environ, start_response)

            super().set_app(serialised)

    LiveServerThread.server_class = OneRequestAtATime


def _missing_services() -> dict[str, str]:
    missing = {}
    if not settings.IS_POSTGRES:
        missing["postgres"] = "DATABASE_URL is not a postgres:// URL"
    if not settings.REDIS_URL:
        missing["redis"] = "REDIS_URL is not set"
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        missing["browser"] = f"no Chromium at {CHROMIUM}"
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _missing_services()
    keep, drop = [], {}
    for item in items:
        needs = [m for m in missing if item.get_closest_marker(m)]
        if needs:
            drop.setdefault(needs[0], []).append(item)
        else:
            keep.append(item)
    if not drop:
        return
    lacking = REQUIRED & set(drop)
    if lacking:
        raise pytest.UsageError(
            f"WEBCARE_REQUIRE={','.join(sorted(REQUIRED))} but tests need what is missing: "
            + "; ".join(f"{len(drop[k])} need {k} ({missing[k]})" for k in sorted(lacking))
        )
    items[:] = keep
    config.hook.pytest_deselected(items=[i for v in drop.values() for i in v])
    config._webcare_not_run = {k: len(v) for k, v in drop.items()}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    not_run = getattr(config, "_webcare_not_run", {})
    missing = _missing_services()
    for name, count in not_run.items():
        terminalreporter.write_line(
            f"webcare: {count} tests that need {name} were not run ({missing.get(name)})",
            yellow=True,
        )
    skipped = terminalreporter.stats.get("skipped", [])
    if REQUIRED and skipped:
        terminalreporter.write_line(
            f"webcare: {len(skipped)} tests were skipped; WEBCARE_REQUIRE forbids that",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRED and session.config.pluginmanager.get_plugin("terminalreporter"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter.stats.get("skipped") and session.exitstatus == 0:
            session.exitstatus = 1


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(request, monkeypatch):
    """Playwright's sync API runs an event loop in the test's thread, while the test's own ORM
    calls stay plain synchronous code. Allowed for browser tests only, and only while one runs:
    a process started by another test must not inherit it (``check --deploy`` rejects it)."""
    if request.node.get_closest_marker("browser"):
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def recorded_clock():
    """The clock at ``tests.clock.RECORDED_NOW`` (ticking on from there): for tests that weigh
    the recorded fixtures' timestamps against the clock."""
    import time_machine

    from tests.clock import RECORDED_NOW

    with time_machine.travel(RECORDED_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _celery_runs_tasks_in_process(request):
    """Tasks queued by code under test run at once in the test process, unless a test talks to
    a real worker (marked ``redis``), which needs the real broker."""
    from webcare.celery import app

    eager = request.node.get_closest_marker("redis") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Keep each phase's report on the test, so a fixture can tell at teardown that the test
    failed (the browser tests then save a screenshot of every open page)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
