"""The leads' dashboard figures for a period, as text or CSV."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbox.reports import selectors as reports

SECTIONS = ("volume", "times", "sla", "agents", "intents", "tags")


class Command(BaseCommand):
    help = "Volume, response and resolution times, SLA attainment, agents, intents and tags."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--team", type=int, default=None, help="Only this team (id).")
        parser.add_argument("--csv", choices=SECTIONS, help="Print one section as CSV.")

    def handle(self, *args, **options) -> None:
        tz = ZoneInfo(settings.TIME_ZONE)
        try:
            first = dt.date.fromisoformat(options["start"])
            last = dt.date.fromisoformat(options["end"])
        except ValueError as exc:
            raise CommandError(f"dates are YYYY-MM-DD: {exc}") from exc
        start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        team = options["team"]
        sections = {
            "volume": (
                reports.volume_by_channel_and_day(start=start, end=end),
                ["day", "channel", "tickets"],
            ),
            "times": (
                [
                    reports.first_response_times(start=start, end=end, team_id=team).as_row(
                        "first response"
                    ),
                    reports.resolution_times(start=start, end=end, team_id=team).as_row(
                        "resolution"
                    ),
                ],
                ["measure", "count", "median_minutes", "p90_minutes"],
            ),
            "sla": (
                [reports.sla_attainment(start=start, end=end, team_id=team)],
                ["met", "breached", "pending", "decided", "rate"],
            ),
            "agents": (
                reports.per_agent(start=start, end=end, team_id=team),
                ["agent", "replies", "closed", "first_response_median", "first_response_p90"],
            ),
            "intents": (
                reports.intent_mix(start=start, end=end, team_id=team),
                ["intent", "tickets", "answered"],
            ),
            "tags": (reports.tag_counts(start=start, end=end), ["name", "tickets"]),
        }
        if options["csv"]:
            rows, columns = sections[options["csv"]]
            self.stdout.write(reports.to_csv(rows, columns), ending="")
            return
        for name in SECTIONS:
            rows, columns = sections[name]
            self.stdout.write(f"\n== {name}")
            self.stdout.write(reports.to_csv(rows, columns), ending="")
