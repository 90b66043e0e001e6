"""Every line of public XSS payload lists, shown as message body, display name, handle, tag
and avatar URL in the inbox list and the thread, in real Chromium: nothing runs.

The payloads are vendored in tests/fixtures/xss/ (see its README for sources and licences).
A page passes when no dialog opened, no alert/confirm/prompt/print was called, no page error
was thrown, and the DOM holds no element or attribute that came from a payload: no inline
script, no ``on*`` handler attribute, no ``javascript:`` link.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from django.db import transaction

from channels.base import InboundAuthor, InboundItem
from inbox.ingest.services import ingest_batch
from inbox.models import Tag, Team, Ticket
from tests.factories import make_channel
from tests.inbox.screen.test_inbox_browser import CHROMIUM_ARGS
from tests.personas import person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "xss"
PER_THREAD = 400

TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + ":" + String(args[0])); };
}
"""
# Anything the page holds that a payload could have put there, had it been rendered as HTML.
INSPECT = (Path(__file__).parent / "xss_inspect.js").read_text()


def payloads() -> list[str]:
    lines: list[str] = []
    for path in sorted(FIXTURES.rglob("*.txt")):
        lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    seen: set[str] = set()
    return [p for p in lines if p.strip() and not (p in seen or seen.add(p))]


def _author(n: int, text: str) -> InboundAuthor:
    return InboundAuthor(
        platform_user_id=f"xss-{n}",
        handle=text[:200],
        display_name=text[:200],
        avatar_url=text[:1000],
    )


def _seed(channel, texts: list[str]) -> list[int]:
    """One ticket per payload (list rows) and threads of PER_THREAD payload messages each."""
    import datetime as dt

    from django.utils import timezone

    start = timezone.now() - dt.timedelta(days=1)
    singles = [
        InboundItem(
            external_id=f"one-{n}",
            thread_key=f"one-{n}",
            kind="mention",
            text=text,
            sent_at=start + dt.timedelta(seconds=n),
            author=_author(n, text),
        )
        for n, text in enumerate(texts)
    ]
    threads = [
        InboundItem(
            external_id=f"thread-{n}",
            thread_key=f"thread-{n // PER_THREAD}",
            kind="dm",
            text=text,
            sent_at=start + dt.timedelta(seconds=n),
            author=_author(10**6 + n, text),
            url=text[:1000] if text.startswith(("http", "javascript", "data")) else "",
        )
        for n, text in enumerate(texts)
    ]
    for batch in (singles, threads):
        for i in range(0, len(batch), 500):
            ingest_batch(channel_id=channel.pk, items=batch[i : i + 500])
    with transaction.atomic():
        tags = {t[:60] for t in texts}
        Tag.objects.bulk_create([Tag(name=t) for t in tags], ignore_conflicts=True)
        by_name = dict(Tag.objects.values_list("name", "pk"))
        through = Ticket.tags.through
        links = []
        for n, text in enumerate(texts):
            ticket_id = Ticket.objects.values_list("pk", flat=True).get(thread_key=f"one-{n}")
            links.append(through(ticket_id=ticket_id, tag_id=by_name[text[:60]]))
        through.objects.bulk_create(links, ignore_conflicts=True)
    return list(
        Ticket.objects.filter(thread_key__startswith="thread-").values_list("pk", flat=True)
    )


@contextlib.contextmanager
def _logged_in(live_server, username: str, problems: list[str]):
    """A Chromium page logged in as ``username`` that records every dialog, page error and
    request to anywhere but our own server (a payload's URL must never be fetched) in
    ``problems``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        context = chromium.new_context()
        context.add_init_script(TRAP)
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(live_server.url)
                else (problems.append("request to " + route.request.url[:80]), route.abort())
            ),
        )
        page = context.new_page()
        page.on("dialog", lambda d: (problems.append("dialog " + d.message[:60]), d.dismiss()))
        page.on("pageerror", lambda e: problems.append("page error " + str(e)[:80]))
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(f"pw-{username}")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        yield page
        chromium.close()


def test_payload_lists_render_as_text_in_list_and_thread(live_server):

    texts = payloads()
    assert len(texts) > 2500  # distinct lines
    lead = person("lotte", role="lead")
    Team.objects.create(name="A").members.add(lead)
    channel = make_channel()
    thread_ids = _seed(channel, texts)

    problems: list[str] = []
    pages = 0
    with _logged_in(live_server, "lotte", problems) as page:
        url = f"{live_server.url}/?view=all"
        while url:
            page.goto(url)
            pages += 1
            problems.extend(f"list page {pages}: {x}" for x in page.evaluate(INSPECT))
            more = page.locator("a[rel=next]")
            url = more.first.get_attribute("href") if more.count() else None
            if url and url.startswith("?"):
                url = f"{live_server.url}/{url}"
        for ticket_id in thread_ids:
            page.goto(f"{live_server.url}/inbox/t/{ticket_id}/")
            pages += 1
            problems.extend(f"thread {ticket_id}: {x}" for x in page.evaluate(INSPECT))

    # Avatars pointing elsewhere are blocked by the route above and by the CSP; they are the
    # browser's fetches of <img src>, never the server's. Only script-ish findings fail.
    failures = [x for x in problems if not x.split(": ", 1)[-1].startswith("request to ")]
    assert pages > len(texts) // 50
    assert failures == []


def test_payload_lists_render_as_text_in_the_admin_pages(live_server):
    """The same payloads as audit values (before/after, verbs), channel names and platform
    errors on the settings start page, and team and user names on the people pages."""

    from channels.models import Channel
    from inbox.models import Activity

    texts = payloads()
    admin = person("ada", role="admin")
    Activity.objects.bulk_create(
        Activity(
            actor=admin,
            verb=text[:40],
            before={"name": text, "teams": [text]},
            after={text[:100]: text, "user": admin.pk},
        )
        for text in texts
    )
    for n, text in enumerate(texts[:150]):
        channel = make_channel(name=text[:120])
        Channel.objects.filter(pk=channel.pk).update(
            last_error=text, health_state="degraded", usage={"month": "x", text[:50]: 1}
        )
        Team.objects.create(name=f"{n} {text}"[:100])
        user = person(f"xss{n}")
        user.first_name, user.last_name = text[:150], text[:150]
        user.save(update_fields=["first_name", "last_name"])

    problems: list[str] = []
    pages = 0
    with _logged_in(live_server, "ada", problems) as page:
        for path in ("/settings/", "/settings/people/", "/settings/people/teams/"):
            page.goto(live_server.url + path)
            pages += 1
            problems.extend(f"{path}: {x}" for x in page.evaluate(INSPECT))
        url = f"{live_server.url}/settings/audit/"
        while url:
            page.goto(url)
            pages += 1
            problems.extend(f"audit page {pages}: {x}" for x in page.evaluate(INSPECT))
            more = page.locator("a[rel=next]")
            url = more.first.get_attribute("href") if more.count() else None
            if url and url.startswith("/"):
                url = live_server.url + url

    failures = [x for x in problems if not x.split(": ", 1)[-1].startswith("request to ")]
    assert failures == []
    assert pages > len(texts) // 50
