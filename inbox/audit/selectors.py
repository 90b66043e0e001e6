"""The audit log: every ``Activity`` row, filtered and paged by keyset, described readably.

Ticket changes carry their ticket; settings changes (channels, users, teams, shifts, rules,
incidents…) have none and name their subject in ``before``/``after`` ({"user": 5, ...}).

Paging is by keyset on (created_at, id), newest first: a page is one index range scan however
deep it is, and there is no COUNT (the table grows with every ticket change). Each filter has an
index that leads with it and continues with ``created_at`` (``activity_actor_time``,
``activity_verb_time``, ``activity_ticket_time``; ``activity_time`` for none), so a filtered page
reads about as many index entries as it shows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from inbox.models import Activity, Team

PAGE_SIZE = 50

# Keys naming what a settings row is about, most telling first: the settings objects that carry
# their own id lead, since a rule or SLA target row also names a channel or team among its
# fields, which is not what it is about.
SUBJECT_KEYS = (
    "rule",
    "sla_target",
    "auto_ack",
    "canned",
    "channel",
    "team",
    "user",
    "incident",
    "customer",
    "shift",
)
# Keys whose values are ids of users, teams or channels: shown by name.
USER_KEYS = {
    "user",
    "assignee",
    "handed_to",
    "members",
    "assign_to",
    "created_by",
    "reviewer",
    "author",
    "agent",
}
TEAM_KEYS = {"team", "teams", "set_team", "default_team"}
CHANNEL_KEYS = {"channel"}
# Longer values are cut in the table; the full value is in the row's title.
MAX_VALUE = 300


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""  # "", "system" (no actor), "people" (any person: system rows out) or an id
    ticket: int | None = None
    verb: str = ""
    scope: str = ""  # "", "tickets" (about a ticket) or "settings" (no ticket)
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    after: str = ""

    @classmethod
    def from_query(cls, params) -> AuditFilter:
        actor = params.get("actor", "")
        ticket = params.get("ticket", "").strip().lstrip("#")
        scope = params.get("scope", "")
        return cls(
            actor=actor if actor in ("system", "people") or actor.isdigit() else "",
            ticket=int(ticket) if ticket.isdigit() else None,
            verb=params.get("verb", "").strip()[:40],
            scope=scope if scope in ("tickets", "settings") else "",
            date_from=_date(params.get("from", "")),
            date_to=_date(params.get("to", "")),
            after=params.get("after", "")[:80],
        )

    def query(self, **changes: Any) -> str:
        """The filter as a query string, without the cursor unless given."""
        values = {
            "actor": self.actor,
            "ticket": self.ticket or "",
            "verb": self.verb,
            "scope": self.scope,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    @property
    def active(self) -> bool:
        return any((self.actor, self.ticket, self.verb, self.scope, self.date_from, self.date_to))


def _date(raw: str) -> dt.date | None:
    try:
        return parse_date(raw.strip()) if raw else None
    except ValueError:
        return None


@dataclass
class Change:
    key: str
    before: str
    after: str
    before_full: str = ""
    after_full: str = ""


@dataclass
class AuditRow:
    activity: Activity
    actor_name: str
    subject: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class AuditPage:
    rows: list[AuditRow]
    next_after: str


# Row-value comparison: PostgreSQL and SQLite take it as one index range from the cursor on (an
# OR of the same conditions makes PostgreSQL read the index from the top and filter).
_BEFORE_ROW = '("inbox_activity"."created_at", "inbox_activity"."id") < (%s, %s)'


def _cursor(activity: Activity) -> str:
    return f"{activity.created_at.isoformat()}|{activity.pk}"


def _parse_cursor(after: str) -> tuple[dt.datetime, int] | None:
    when_raw, _sep, id_raw = after.rpartition("|")
    if not id_raw.isdigit():
        return None
    try:
        when = parse_datetime(when_raw)
    except ValueError:
        return None
    return (when, int(id_raw)) if when is not None else None


def _day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)


def filtered(flt: AuditFilter, tz: dt.tzinfo | None = None):
    """The activities matching ``flt`` (dates are local days in ``tz``), newest first."""
    tz = tz or timezone.get_current_timezone()
    qs = Activity.objects.all()
    if flt.actor == "system":
        qs = qs.filter(actor__isnull=True)
    elif flt.actor == "people":
        qs = qs.filter(actor__isnull=False)
    elif flt.actor:
        qs = qs.filter(actor_id=int(flt.actor))
    if flt.ticket is not None:
        qs = qs.filter(ticket_id=flt.ticket)
    elif flt.scope == "settings":
        qs = qs.filter(ticket__isnull=True)
    elif flt.scope == "tickets":
        qs = qs.filter(ticket__isnull=False)
    if flt.verb:
        qs = qs.filter(verb=flt.verb)
    if flt.date_from:
        qs = qs.filter(created_at__gte=_day_start(flt.date_from, tz))
    if flt.date_to:
        qs = qs.filter(created_at__lt=_day_start(flt.date_to + dt.timedelta(days=1), tz))
    return qs.order_by("-created_at", "-id")


def audit_page(flt: AuditFilter, tz: dt.tzinfo | None = None) -> AuditPage:
    """One page of the log from the cursor ``flt.after`` on (three queries at most)."""
    qs = filtered(flt, tz).select_related("actor")
    cursor = _parse_cursor(flt.after) if flt.after else None
    if cursor is not None:
        when = connection.ops.adapt_datetimefield_value(cursor[0])
        qs = qs.extra(where=[_BEFORE_ROW], params=[when, cursor[1]])  # noqa: S610 - bound params
    activities = list(qs[: PAGE_SIZE + 1])
    more = len(activities) > PAGE_SIZE
    activities = activities[:PAGE_SIZE]
    return AuditPage(
        rows=describe(activities),
        next_after=_cursor(activities[-1]) if more and activities else "",
    )


def known_verbs() -> list[str]:
    """Every verb in the log, for the filter's choices.

    A loose index scan on ``activity_verb_time``: one index probe per distinct verb (a few dozen)
    instead of reading the whole table as ``SELECT DISTINCT`` would.
    """
    sql = """
        WITH RECURSIVE verbs(verb) AS (
            SELECT MIN(verb) FROM inbox_activity
            UNION ALL
            SELECT (SELECT MIN(a.verb) FROM inbox_activity a WHERE a.verb > verbs.verb)
            FROM verbs WHERE verbs.verb IS NOT NULL
        )
        SELECT verb FROM verbs WHERE verb IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


# --- readable rows ----------------------------------------------------------------------------
def _ids(value: Any) -> Iterable[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool):
                yield item


def _names(activities: list[Activity]) -> dict[str, dict[int, str]]:
    """Names of the users, teams and channels the rows mention: one query per kind."""
    from channels.models import Channel

    wanted: dict[str, set[int]] = {"user": set(), "team": set(), "channel": set()}
    for activity in activities:
        for side in (activity.before, activity.after):
            if not isinstance(side, dict):
                continue
            for key, value in side.items():
                kind = _kind(key)
                if kind:
                    wanted[kind].update(_ids(value))
    names: dict[str, dict[int, str]] = {"user": {}, "team": {}, "channel": {}}
    if wanted["user"]:
        for user in get_user_model().objects.filter(pk__in=wanted["user"]):
            names["user"][user.pk] = user.get_full_name() or user.get_username()
    if wanted["team"]:
        names["team"] = dict(Team.objects.filter(pk__in=wanted["team"]).values_list("pk", "name"))
    if wanted["channel"]:
        names["channel"] = dict(
            Channel.objects.filter(pk__in=wanted["channel"]).values_list("pk", "name")
        )
    return names


def _kind(key: str) -> str:
    if key in USER_KEYS:
        return "user"
    if key in TEAM_KEYS:
        return "team"
    if key in CHANNEL_KEYS:
        return "channel"
    return ""


def show(key: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    """One value as people read it; ids of users, teams and channels by name."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    kind = _kind(key)
    if kind and isinstance(value, int):
        name = names[kind].get(value)
        return f"{name} (#{value})" if name else f"#{value}"
    if isinstance(value, list):
        return ", ".join(show(key, item, names) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _subject(activity: Activity, names: dict[str, dict[int, str]]) -> tuple[str, str]:
    """What a row is about ("user Anna (#5)"), and the key that says so; ticket rows have none."""
    if activity.ticket_id is not None:
        return "", ""
    before = activity.before if isinstance(activity.before, dict) else {}
    after = activity.after if isinstance(activity.after, dict) else {}
    for key in SUBJECT_KEYS:
        values = [side[key] for side in (before, after) if key in side]
        if values and all(v == values[0] for v in values):
            return f"{key} {show(key, values[0], names)}", key
    return "", ""


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def describe(activities: list[Activity]) -> list[AuditRow]:
    names = _names(activities)
    rows = []
    for activity in activities:
        subject, subject_key = _subject(activity, names)
        before = activity.before if isinstance(activity.before, dict) else {"": activity.before}
        after = activity.after if isinstance(activity.after, dict) else {"": activity.after}
        changes = []
        for key in list(dict.fromkeys([*before, *after])):
            if key == subject_key:
                continue
            old = show(key, before.get(key), names) if key in before else "—"
            new = show(key, after.get(key), names) if key in after else "—"
            changes.append(Change(key, _cut(old), _cut(new), old, new))
        actor = activity.actor
        rows.append(
            AuditRow(
                activity=activity,
                actor_name=(actor.get_full_name() or actor.get_username()) if actor else "",
                subject=subject,
                changes=changes,
            )
        )
    return rows
