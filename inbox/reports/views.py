"""The leads' dashboard: volumes, response times, SLA attainment, per agent, CSV.

Every figure comes from ``inbox.reports.selectors`` (aggregate queries, never a loop over tickets),
so the
page costs the same number of queries for a hundred tickets or a million. Business-hours times
are the seconds stored on each ticket when it was answered or closed. The charts are inline SVG
whose shapes ``inbox.reports.charts`` computes (no script); every chart has a table beside it as
its text alternative. The figures poll every 30 seconds with the same query string, so the
chosen range and team stay while new traffic moves the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from inbox.core.decorators import lead_required
from inbox.models import Intent, Team
from inbox.reports import selectors as reports
from inbox.reports.charts import sla_bar, volume_chart
from webcare.http import AuthedRequest

PRESETS = {"today": 1, "7d": 7, "30d": 30}
PRESET_LABELS = (
    ("today", gettext_lazy("Today")),
    ("7d", gettext_lazy("7 days")),
    ("30d", gettext_lazy("30 days")),
)
DEFAULT_PRESET = "7d"
MAX_DAYS = 366  # a custom range longer than a year is cut to its last year
POLL_SECONDS = 30
FIGURES_CACHE_SECONDS = 20  # below POLL_SECONDS: every poll sees figures at most this old
TOP_TAGS = 10


# --- the period -------------------------------------------------------------------------------
def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


@dataclass(frozen=True)
class Period:
    """Whole local days ``first`` … ``last`` (inclusive), a preset or a custom range, and an
    optional team."""

    first: dt.date
    last: dt.date
    preset: str  # "today", "7d", "30d" or "" for a custom range
    team_id: int | None = None

    @classmethod
    def from_query(cls, params, today: dt.date) -> Period:
        raw_team = params.get("team", "")
        team_id = int(raw_team) if raw_team.isdigit() else None
        first, last = _date(params.get("from")), _date(params.get("to"))
        if first or last:
            last = last or today
            first = first or last
            if first > last:
                first, last = last, first
            first = max(first, last - dt.timedelta(days=MAX_DAYS - 1))
            return cls(first, last, "", team_id)
        preset = params.get("range", "")
        preset = preset if preset in PRESETS else DEFAULT_PRESET
        return cls(today - dt.timedelta(days=PRESETS[preset] - 1), today, preset, team_id)

    def bounds(self, tz) -> tuple[dt.datetime, dt.datetime]:
        """The half-open instants ``[start, end)`` of the days in ``tz``."""

        def midnight(day: dt.date) -> dt.datetime:
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)

        return midnight(self.first), midnight(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def query_for_preset(self, preset: str) -> str:
        """The query of ``preset`` for the same team."""
        return Period(self.first, self.last, preset, self.team_id).query()

    def query(self, **extra: str) -> str:
        params: dict[str, Any] = (
            {"range": self.preset}
            if self.preset
            else {"from": self.first.isoformat(), "to": self.last.isoformat()}
        )
        if self.team_id is not None:
            params["team"] = self.team_id
        params.update(extra)
        return urlencode(params)


# --- the figures ------------------------------------------------------------------------------
TIME_MEASURES = (
    ("first_response", gettext_lazy("First response")),
    ("resolution", gettext_lazy("Resolution")),
)


def _seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def figures(period: Period, *, now: dt.datetime | None = None, tz=None) -> dict[str, Any]:
    """Every report of the dashboard for ``period`` (``inbox.reports.selectors.dashboard``: on
    PostgreSQL
    two scans of the tickets and three small queries)."""
    now = now or timezone.now()
    tz = tz or timezone.get_current_timezone()
    start, end = period.bounds(tz)
    team = period.team_id
    every = reports.dashboard(start=start, end=end, zone=str(tz), team_id=team, now=now)

    times, time_rows = [], []
    measured = every["times"]
    for key, label in TIME_MEASURES:
        clock, business = measured[key]
        times.append(
            {
                "key": key,
                "label": label,
                "count": clock.count,
                "median": _seconds(clock.median),
                "p90": _seconds(clock.p90),
                "business_count": business.count,
                "business_median": _seconds(business.median),
                "business_p90": _seconds(business.p90),
            }
        )
        time_rows += [clock.as_row(key), business.as_row(f"{key}_business_hours")]

    volume = every["volume"]
    sla = every["sla"]
    agents = [
        row
        | {
            "median_seconds": _seconds(row["first_response_median"]),
            "p90_seconds": _seconds(row["first_response_p90"]),
        }
        for row in every["agents"]
    ]
    labels = dict(Intent.choices)
    intents = [row | {"label": labels.get(row["intent"], _("Unknown"))} for row in every["intents"]]
    tags = every["tags"]
    by_intent = {row["intent"]: row for row in intents}
    return {
        "period": period,
        "start": start,
        "end": end,
        "now": now,
        "total": sum(r["tickets"] for r in volume),
        "volume": volume,
        "chart": volume_chart(volume, period.days),
        "times": times,
        "time_rows": time_rows,
        "sla": sla,
        "sla_chart": sla_bar(sla),
        "agents": agents,
        "intents": intents,
        "complaints": _answered(by_intent.get(Intent.COMPLAINT)),
        "compliments": _answered(by_intent.get(Intent.COMPLIMENT)),
        "tags": tags,
        "top_tags": tags[:TOP_TAGS],
        "whatsapp_window": _whatsapp_window(start, end, team),
    }


def _whatsapp_window(start: dt.datetime, end: dt.datetime, team) -> dict[str, int]:
    """WhatsApp replies sent in the period inside the 24-hour window (free-form) and outside
    it (templates)."""
    from channels.whatsapp.window import window_counts
    from inbox.models import Message

    replies = Message.objects.filter(sent_at__gte=start, sent_at__lt=end)
    if team:
        replies = replies.filter(ticket__team_id=team)
    return window_counts(messages=replies)


def _answered(row: dict[str, Any] | None) -> dict[str, Any]:
    tickets = row["tickets"] if row else 0
    answered = row["answered"] if row else 0
    return {
        "tickets": tickets,
        "answered": answered,
        "rate": round(answered / tickets, 4) if tickets else None,
    }


# --- CSV --------------------------------------------------------------------------------------
CSV_REPORTS: dict[str, tuple[str, ...]] = {
    "volume": ("day", "channel", "tickets"),
    "times": ("measure", "count", "median_minutes", "p90_minutes"),
    "sla": ("met", "breached", "pending", "decided", "rate"),
    "agents": (
        "agent",
        "replies",
        "closed",
        "first_response_median_minutes",
        "first_response_p90_minutes",
    ),
    "intents": ("intent", "tickets", "answered"),
    "tags": ("name", "tickets"),
}


def _minutes(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def csv_rows(report: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    if report == "volume":
        return data["volume"]
    if report == "times":
        return data["time_rows"]
    if report == "sla":
        return [data["sla"]]
    if report == "agents":
        return [
            row
            | {
                "first_response_median_minutes": _minutes(row["first_response_median"]),
                "first_response_p90_minutes": _minutes(row["first_response_p90"]),
            }
            for row in data["agents"]
        ]
    if report == "intents":
        return data["intents"]
    return data["tags"]


# --- the view ---------------------------------------------------------------------------------
def cached_figures(period: Period, tz) -> dict[str, Any]:
    """The figures, shared for FIGURES_CACHE_SECONDS by everyone asking for the same period,
    team, zone and language: on 1M tickets a 30-day dashboard is seconds of database time, and
    every open dashboard polls. Younger than the poll interval, so each poll still shows new
    traffic. Without a cache (Redis down) every request computes them."""
    key = f"dashboard:{translation.get_language()}:{tz}:{period.query()}"
    data = cache.get(key)
    if data is None:
        data = figures(period, tz=tz)
        cache.set(key, data, FIGURES_CACHE_SECONDS)
    return data


@require_GET
@lead_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    tz = timezone.get_current_timezone()
    period = Period.from_query(request.GET, timezone.localdate(timezone.now(), tz))
    report = request.GET.get("csv")
    if report is not None and report not in CSV_REPORTS:
        raise Http404("No such report.")
    data = cached_figures(period, tz)
    if report:
        response = HttpResponse(
            reports.to_csv(csv_rows(report, data), CSV_REPORTS[report]),
            content_type="text/csv; charset=utf-8",
        )
        name = f"webcare-{report}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    drill = drill_queries(period, tz)
    context = {
        **data,
        # Each time figure links to the tickets it is computed over (new dicts: ``data`` may be
        # the cached object itself).
        "times": [
            {**m, "drill": drill[m["key"]], "business_drill": drill[f"{m['key']}_business"]}
            for m in data["times"]
        ],
        "query": period.query(),
        "poll_seconds": POLL_SECONDS,
        "drill": drill,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "inbox/reports/dashboard.html#figures", context)
    context |= {
        "teams": Team.objects.order_by("name").only("id", "name"),
        "presets": [(key, label, period.query_for_preset(key)) for key, label in PRESET_LABELS],
    }
    return render(request, "inbox/reports/dashboard.html", context)


def drill_queries(period: Period, tz) -> dict[str, str]:
    """The inbox list's query selecting the tickets behind each kind of figure: all statuses,
    the period on the instant that figure counts by (``inbox.tickets.drill.PERIOD_FIELDS``),
    the team. A figure adds its own filter (channel, intent, tag, assignee, SLA outcome)."""
    start, end = period.bounds(tz)
    base = {"view": "all", "since": start.isoformat(), "until": end.isoformat()}
    if period.team_id:
        base["team"] = str(period.team_id)
    drill = {
        name: urlencode({**base, "period": name}) for name in ("created", "opened", "closed", "due")
    }
    # The time figures: their period's tickets with that time measured (``MEASURED``).
    for key, period_name, measure in (
        ("first_response", "opened", "response"),
        ("first_response_business", "opened", "response_business"),
        ("resolution", "closed", "resolution"),
        ("resolution_business", "closed", "resolution_business"),
    ):
        drill[key] = urlencode({**base, "period": period_name, "measure": measure})
    return drill


@require_GET
@lead_required
def export(request: AuthedRequest) -> StreamingHttpResponse:
    """One row per conversation created in the dashboard's period, streamed."""
    from inbox.reports.export import conversations, csv_lines

    tz = timezone.get_current_timezone()
    period = Period.from_query(request.GET, timezone.localdate(timezone.now(), tz))
    start, end = period.bounds(tz)
    rows = conversations(start=start, end=end, team_id=period.team_id)
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    name = f"webcare-conversations-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("conversations.csv", export, name="dashboard_export"),
]
