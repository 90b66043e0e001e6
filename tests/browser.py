"""What the browser tests share: Debian's Chromium through Playwright, logging in, phones,
axe-core, and a screenshot of every open page when a test fails.

Screenshots go to ``var/test-screenshots/`` (the path is printed in the failure's output).
axe-core comes with ``axe-playwright-python`` (its bundled ``axe.min.js``, nothing fetched).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE = 10_000  # ms: polling runs every 4 s
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parent.parent / "var" / "test-screenshots"


class Browser:
    """One Chromium for a test; every page it opens is screenshotted if the test fails."""

    def __init__(self, chromium) -> None:
        self.chromium = chromium
        self.pages: list = []

    def page(self, **context_options):
        context = self.chromium.new_context(**context_options)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "dialog", lambda dialog: (errors.append("dialog: " + dialog.message), dialog.dismiss())
        )
        page.errors = errors
        self.pages.append(page)
        return page

    def log_in(self, live_server, username: str, **context_options):
        page = self.page(**context_options)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("pw-" + username)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r".*/$"))
        return page


@pytest.fixture
def web(request):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        browser = Browser(chromium)
        yield browser
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
            for i, page in enumerate(browser.pages):
                path = SHOTS / f"{name}-{i}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                    print(f"screenshot: {path}")
                except Exception as exc:  # a closed page must not hide the real failure
                    print(f"no screenshot of page {i}: {exc}")
        chromium.close()
        # See tests/inbox/screen/test_inbox_browser.py: Django's per-async-context
        # connections must be closed here, or PostgreSQL refuses to drop the test database.
        connections.close_all()


def axe_problems(page, *, impacts=("serious", "critical")) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response.get("violations", []):
        if violation.get("impact") in impacts:
            targets = [", ".join(node.get("target", [])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {'; '.join(targets)}")
    return found


def overflows(page) -> list[str]:
    """Elements that stick out past the right edge of the viewport (cut off on a phone)."""
    return page.evaluate(
        r"""() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (!box.width || !box.height) continue;
            const style = getComputedStyle(el);
            if (style.visibility === 'hidden') continue;
            if (el.closest('[hidden], dialog:not([open]), .sr')) continue;
            let clipped = false;
            for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
              const o = getComputedStyle(p).overflowX;
              if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; }
            }
            if (clipped || box.right <= width + 1) continue;
            const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
            const cls = typeof el.className === 'string' ? el.className.trim() : '';
            out.push(name + (cls ? '.' + cls.split(/\s+/).join('.') : '')
                     + ' right=' + Math.round(box.right));
          }
          return out.slice(0, 10);
        }"""
    )
