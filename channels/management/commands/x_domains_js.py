"""``manage.py x_domains_js``: write ``static/js/x-domains.js``, the top-level domains X
recognises in a bare domain, from the installed twitter-text-parser (no network).

Run it after upgrading twitter-text-parser; ``--check`` only says whether the file is current
(exit status 1 when it is not).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels.x.counting import BROWSER_DOMAINS_JS, browser_domains_js


class Command(BaseCommand):
    help = "Write static/js/x-domains.js from twitter-text-parser's TLD lists (the X counter)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Only check the file is current.")

    def handle(self, *args, check: bool, **options) -> None:
        path = Path(settings.BASE_DIR) / BROWSER_DOMAINS_JS
        wanted = browser_domains_js()
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if check:
            if current != wanted:
                raise CommandError(f"{path} is out of date: run manage.py x_domains_js.")
            self.stdout.write(f"{path} is current.")
            return
        path.write_text(wanted, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
