"""Reads for the inbox list: the filtered, keyset-paginated tickets (the thread pane's reads are
in ``inbox.screen.thread_pane``).

Every query here is bounded: a page is ``PAGE_SIZE`` rows found through an index on
(status, waiting_since, id) — or (due_at, id) when sorted by SLA due time — the next page starts
after the last row seen (no OFFSET), and the count stops at ``COUNT_CAP`` ("99+") instead of
counting a million rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.dateparse import parse_datetime

from inbox.core import access, bulk
from inbox.models import (
    OPEN_STATUSES,
    Identity,
    Intent,
    Message,
    Ticket,
    TicketStatus,
)
from inbox.tickets.drill import MEASURES, PERIOD_FIELDS, SLA_OUTCOMES, drill_down
from inbox.tickets.timing import at_risk_q

PAGE_SIZE = 50
COUNT_CAP = 99

# "at_risk" is for leads only (the views check): open tickets overdue or due within AT_RISK.
VIEWS = ("mine", "unassigned", "open", "pending", "closed", "compliments", "at_risk", "all")
INTENTS = tuple(Intent.values)
AT_RISK = dt.timedelta(minutes=30)
# List orders: longest waiting first (the default), or soonest due first ("due").
SORTS = ("", "due")

# Each message's text stemmed in its own language (Dutch and English when unknown), the same
# expression as the GIN index of migration 0026, so PostgreSQL uses it; the query is stemmed
# both ways, so a word written as in the message matches whatever the message's language.
SEARCH_DOCUMENT = (
    "(CASE language WHEN 'nl' THEN to_tsvector('dutch'::regconfig, text) "
    "WHEN 'en' THEN to_tsvector('english'::regconfig, text) "
    "ELSE to_tsvector('dutch'::regconfig, text) || to_tsvector('english'::regconfig, text) END)"
)
FTS_MATCH = (
    f"SELECT ticket_id FROM inbox_message WHERE {SEARCH_DOCUMENT} "  # noqa: S608 - constant
    "@@ (plainto_tsquery('dutch'::regconfig, %s) || plainto_tsquery('english'::regconfig, %s))"
)


@dataclass
class ListFilter:
    view: str = "open"
    channel: int | None = None
    kind: str = ""
    tag: str = ""
    assignee: int | None = None
    team: int | None = None
    q: str = ""
    sort: str = ""
    after: str = ""  # keyset cursor "<waiting_since or due_at iso, or ->|<id>"
    # Drill-down filters (the dashboard's links): tickets whose ``period`` instant is in
    # [since, until), their intent, and the first response's SLA outcome.
    period: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    intent: str = ""
    sla: str = ""
    measure: str = ""
    responder: int | None = None  # who gave the first answer (the per-agent times)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def order_field(self) -> str:
        """The column the list is ordered and paginated by."""
        return "due_at" if self.sort == "due" or self.view == "at_risk" else "waiting_since"

    @classmethod
    def from_query(cls, params) -> ListFilter:
        def as_int(name: str) -> int | None:
            raw = params.get(name, "")
            return as_id(raw)

        def as_instant(name: str) -> dt.datetime | None:
            try:
                value = parse_datetime(params.get(name, "")[:40])
            except ValueError:
                return None
            return value if value is not None and value.tzinfo is not None else None

        view = params.get("view", "open")
        sort = params.get("sort", "")
        period = params.get("period", "")
        intent = params.get("intent", "")
        sla = params.get("sla", "")
        measure = params.get("measure", "")
        return cls(
            measure=measure if measure in MEASURES else "",
            responder=as_int("responder"),
            period=period if period in PERIOD_FIELDS else "",
            since=as_instant("since"),
            until=as_instant("until"),
            intent=intent if intent in INTENTS else "",
            sla=sla if sla in SLA_OUTCOMES else "",
            view=view if view in VIEWS else "open",
            channel=as_int("channel"),
            kind=params.get("kind", "")[:16],
            tag=params.get("tag", "")[:60],
            assignee=as_int("assignee"),
            team=as_int("team"),
            q=params.get("q", "").strip()[:200],
            sort=sort if sort in SORTS else "",
            after=params.get("after", "")[:80],
        )

    def query(self, **changes) -> str:
        """The query string of this view with ``changes`` (None drops a key)."""
        values = {
            "view": self.view,
            "channel": self.channel,
            "kind": self.kind,
            "tag": self.tag,
            "assignee": self.assignee,
            "team": self.team,
            "q": self.q,
            "sort": self.sort,
            "period": self.period,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "intent": self.intent,
            "sla": self.sla,
            "measure": self.measure,
            "responder": self.responder,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def filtered_tickets(user, flt: ListFilter, *, visible: bool = True) -> QuerySet[Ticket]:
    """The tickets of the view and filters; ``visible=False`` leaves out who may see them (the
    caller applies that itself, see :func:`visibility_branches`)."""
    qs = access.visible_tickets(user) if visible else Ticket.objects.all()
    if flt.view == "mine":
        qs = qs.filter(assignee=user, status__in=OPEN_STATUSES)
    elif flt.view == "unassigned":
        qs = qs.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    elif flt.view == "pending":
        qs = qs.filter(status=TicketStatus.PENDING)
    elif flt.view == "closed":
        qs = qs.filter(status=TicketStatus.CLOSED)
    elif flt.view == "compliments":
        qs = qs.filter(intent=Intent.COMPLIMENT, status__in=OPEN_STATUSES)
    elif flt.view == "at_risk":
        qs = qs.filter(at_risk_q(within=AT_RISK))
    elif flt.view == "all":
        pass
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if flt.channel:
        qs = qs.filter(channel_id=flt.channel)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.tag:
        # A semi-join, not a join: ``tags__name`` gives a ticket one row per matching tag, and
        # the DISTINCT that then needs makes Django add the ORDER BY column to every SELECT,
        # so an id-only scan (``ids_of``) read two columns and the agent's list broke.
        qs = qs.filter(
            Exists(Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"), tag__name=flt.tag))
        )
    if flt.assignee:
        qs = qs.filter(assignee_id=flt.assignee)
    if flt.team:
        qs = qs.filter(team_id=flt.team)
    if flt.q:
        qs = qs.filter(search_q(flt.q))
    return drill_down(qs, flt)


# At most this many matching messages and customers are read per search. A word in every
# message ("bestelling") then answers as fast as a rare one; the list shows the tickets of the
# first SEARCH_CAP matches found (docs/inbox.md).
SEARCH_CAP = 20_000


BIGINT_MAX = 2**63 - 1


def as_id(raw: str) -> int | None:
    """``raw`` as a row id, or None: ASCII digits only ("²" is a digit to ``str.isdigit`` but
    not to ``int``) and within a bigint, which PostgreSQL refuses to compare beyond (a 500)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= BIGINT_MAX else None


def search_q(text: str) -> Q:
    if not settings.IS_POSTGRES:
        people = Q(identity__handle__icontains=text) | Q(identity__display_name__icontains=text)
        if as_id(text) is not None:
            people |= Q(pk=as_id(text))
        return people | Q(pk__in=Message.objects.filter(text__icontains=text).values("ticket_id"))
    # Two bounded lookups, then one indexed filter: an OR of a join and a subquery over 5M
    # messages lets PostgreSQL pick plans that run for minutes on a common word.
    identities, ids = search_matches(text)
    number = as_id(text)
    if number is not None:
        ids.append(number)
    # Built once: an agent's list reads them in each of its scans, for the page and the count.
    return Q(pk__any_of=bulk.id_array(ids)) | Q(identity_id__any_of=bulk.id_array(identities))


# How long one search's matches are reused: every agent polling a search view (every 4 s) and
# the requests of one list (page, count) share them instead of each reading up to SEARCH_CAP
# index entries again (0.1–0.5 s for a word in most messages). A new matching message shows in
# a search view within this time plus a poll.
SEARCH_TTL = 10


def search_matches(text: str) -> tuple[list[int], list[int]]:
    """(identity ids, ticket ids) matching ``text``: handles and names, and message text in
    Dutch or English. Kept for ``SEARCH_TTL`` seconds in the shared cache."""
    from django.core.cache import cache

    key = "search:{}:{}".format(
        connection.settings_dict["NAME"], hashlib.sha256(text.encode()).hexdigest()[:32]
    )
    found = cache.get(key)
    if found is None:
        identities = list(
            Identity.objects.filter(Q(handle__icontains=text) | Q(display_name__icontains=text))
            .order_by()
            .values_list("pk", flat=True)[:SEARCH_CAP]
        )
        found = (identities, _fts_ticket_ids(text))
        cache.set(key, found, SEARCH_TTL)
    return found[0], list(found[1])


def _fts_ticket_ids(text: str) -> list[int]:
    """Tickets with a message matching ``text`` in Dutch or English, read from the GIN index.

    Only a bitmap scan of the index is allowed: the planner's estimate for a rare word can be
    a hundred times too high, and it then walks the whole table backwards (40 s seen on 5M
    messages) instead of asking the index.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"{FTS_MATCH} LIMIT %s", [text, text, SEARCH_CAP])
        return list({ticket_id for (ticket_id,) in cursor.fetchall()})


def _cursor(ticket: Ticket, field_name: str = "waiting_since") -> str:
    value = getattr(ticket, field_name)
    return f"{value.isoformat() if value else '-'}|{ticket.pk}"


def _parse_after(after: str) -> tuple[dt.datetime | None, int] | None:
    ws_raw, _, id_raw = after.rpartition("|")
    pk = as_id(id_raw)
    if pk is None:
        return None
    if ws_raw == "-":
        return None, pk
    ws = parse_datetime(ws_raw)
    return (ws, pk) if ws is not None else None


# A row-value comparison is what lets the database start the index scan right at the cursor
# (PostgreSQL and SQLite both take it as an index range); the equivalent OR of three
# conditions makes PostgreSQL read the index from the start and filter, so deep pages slow down.
_AFTER_ROW = '("inbox_ticket"."{}", "inbox_ticket"."id") > (%s, %s)'


@dataclass
class TicketPage:
    tickets: list[Ticket]
    next_after: str
    count_label: str
    # (id, order value, updated_at) of the first page's rows and the next one; None after a
    # cursor. With the count and who is viewing, the poll's stamp (inbox.screen.views.page_stamp).
    keys: list[tuple] | None = None
    stamp: str = ""


# What a list row shows (``inbox_tags.ticket_rows``) and the keyset cursor reads: loading only
# these skips the JSON columns (routing trace, priority parts) and the related rows' other
# columns, about a third of a list request's Python time on 50 rows.
LIST_ROW_FIELDS = (
    "id", "channel_id", "kind", "identity_id", "customer_id", "assignee_id", "team_id", "status",
    "rating", "last_message_preview", "attachment_count", "waiting_since", "due_at", "version",
    "updated_at",
    "channel__name", "channel__kind",
    "identity__display_name", "identity__handle",
    "customer__display_name",
    "assignee__username", "assignee__first_name", "assignee__last_name",
)  # fmt: skip


@dataclass
class _Scans:
    """A view as the list reads it: the user's filtered tickets (``qs``) and, for an agent, the
    same without visibility (``base``) with the ways they see tickets (``branches``), each
    scanned apart in the view's ``order`` (nulls last: tickets nobody waits on, or with no due
    time, come after, in id order; "due" is served by ticket_open_due_order and
    ticket_team_open_due_order as the waiting order by ticket_open_order)."""

    qs: QuerySet[Ticket]
    base: QuerySet[Ticket] | None
    branches: list[Q] | None
    column: str
    order: tuple

    @classmethod
    def of(cls, user, flt: ListFilter) -> _Scans:
        qs = filtered_tickets(user, flt)
        branches = visibility_branches(user)
        base = filtered_tickets(user, flt, visible=False) if branches else None
        column = flt.order_field
        return cls(qs, base, branches, column, (F(column).asc(nulls_last=True), "id"))

    def branch_ids(self, limit: int, where=lambda q: q, ordering=None) -> list[int]:
        """For an agent, the first ``limit`` ids of each way they see the view's tickets: one
        index-ordered, limited scan per way, all in one statement (an OR of the ways cannot use
        the waiting-order index, and on a team of 100,000 open tickets PostgreSQL sorted them
        all for every list, 180 ms)."""
        ordering = ordering or self.order
        base = self.base  # None only when there are no branches
        return ids_of(
            where(base.filter(branch)).order_by(*ordering).values("pk")[:limit]
            for branch in self.branches or ()
            if base is not None
        )

    def narrowed(self, limit: int, where=lambda q: q, ordering=None) -> QuerySet[Ticket]:
        """The view's tickets, for an agent only those of :meth:`branch_ids`."""
        if not self.branches:
            return self.qs
        return Ticket.objects.filter(pk__in=self.branch_ids(limit, where, ordering))

    def count_label(self) -> str:
        """ "37", or "99+": never more than COUNT_CAP + 1 index entries are read (for an agent,
        per way they see tickets, each in the page's index order: unordered, PostgreSQL expects
        the LIMIT to end a sequential scan early and reads 20,000 rows of a big team for 100
        hits)."""
        if self.branches:
            n = len(set(self.branch_ids(COUNT_CAP + 1)))
        else:
            n = self.qs.order_by().values("pk")[: COUNT_CAP + 1].count()
        return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


def _list_rows(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The columns and related rows a list row shows."""
    return (
        qs.select_related("channel", "identity", "customer", "assignee")
        .only(*LIST_ROW_FIELDS)
        .prefetch_related("tags")
    )


def page_from_keys(flt: ListFilter, keys: list[tuple], count_label: str) -> TicketPage:
    """The first page from :func:`first_page_keys` (a poll that found it changed): its rows by
    id, without reading the view's scans and count a second time."""
    column = flt.order_field
    rows = list(
        _list_rows(Ticket.objects.filter(pk__in=[key[0] for key in keys])).order_by(
            F(column).asc(nulls_last=True), "id"
        )
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return TicketPage(
        tickets=rows,
        next_after=_cursor(rows[-1], column) if more else "",
        count_label=count_label,
        keys=keys,
    )


def ticket_page(user, flt: ListFilter, limit: int = PAGE_SIZE) -> TicketPage:
    """A page of ``limit`` rows (the screen's PAGE_SIZE; the API lets callers pick 1-100)."""
    view = _Scans.of(user, flt)
    column, order = view.column, view.order
    nulls = {f"{column}__isnull": True}
    by_id = ("id",)

    def take(where, ordering, limit: int) -> list[Ticket]:
        page = _list_rows(view.narrowed(limit, where, ordering))
        return list(where(page).order_by(*ordering)[:limit])

    cursor = _parse_after(flt.after) if flt.after else None
    if cursor is None:
        rows = take(lambda q: q, order, limit + 1)
    elif cursor[0] is None:
        # Past the tickets with a value (waiting, or due): the rest, by id.
        rows = take(lambda q: q.filter(pk__gt=cursor[1], **nulls), by_id, limit + 1)
    else:
        # As the backend stores it: SQLite compares text, and a raw aware datetime there reads
        # "...+00:00", which sorts after the stored naive value, so rows tied on the time and
        # above the cursor's id were skipped.
        after = [connection.ops.adapt_datetimefield_value(cursor[0]), cursor[1]]
        rows = take(
            lambda q: q.extra(where=[_AFTER_ROW.format(column)], params=after),  # noqa: S610
            order,
            limit + 1,
        )
        if len(rows) <= limit:
            # The tickets with a value ran out on this page: continue with the rest, by id.
            rows += take(lambda q: q.filter(**nulls), by_id, limit + 1 - len(rows))
    more = len(rows) > limit
    keys = [(t.pk, getattr(t, column), t.updated_at) for t in rows] if cursor is None else None
    rows = rows[:limit]
    return TicketPage(
        tickets=rows,
        next_after=_cursor(rows[-1], column) if more else "",
        count_label=view.count_label(),
        keys=keys,
    )


def first_page_keys(user, flt: ListFilter) -> tuple[list[tuple], str] | None:
    """What decides whether the first page of a view looks the same: each row's (id, order
    value, ``updated_at``), with the one after the page (the "more" link), and the count label.
    Three statements for an agent, two for a lead, against seven for the page itself; None for a
    page after a cursor (a deeper page's poll is always answered in full).

    Ingest changes some ticket every second under load, so "anything visible changed" (the
    newest ``updated_at``) re-rendered every poll of every agent; the first page of most views
    changes far less often.
    """
    if flt.after:
        return None
    view = _Scans.of(user, flt)
    query = view.narrowed(PAGE_SIZE + 1).order_by(*view.order)
    keys: list[tuple] = list(query.values_list("pk", view.column, "updated_at")[: PAGE_SIZE + 1])
    return keys, view.count_label()


def ids_of(querysets) -> list[int]:
    """The ids found by several limited, ordered scans, in one round trip (``UNION ALL``): each
    scan keeps its own index order and LIMIT. The caller then looks them up by primary key: one
    statement with the scans and the page's joins took PostgreSQL longer to plan (5 scans of a
    table with 20 indexes) than the two statements take to run.

    Django's ``union()`` cannot be used as such a subquery; each scan is wrapped in a derived
    table because SQLite allows no ORDER BY or LIMIT on the members of a compound SELECT.
    Parameters are bound on the server (inbox.core.bulk.cursor): a search's id lists (up to 20,000
    each, once per scan) quoted into the SQL text were a sixth of the web workers' time under
    load.
    """
    parts, params = [], []
    for n, queryset in enumerate(querysets):
        sql, part_params = queryset.query.get_compiler(queryset.db).as_sql()
        parts.append(f"SELECT * FROM ({sql}) AS way{n}")  # noqa: S608 - compiled by Django
        params.extend(part_params)
    with bulk.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [pk for (pk,) in cursor.fetchall()]


def visibility_branches(user) -> list[Q] | None:
    """The ways an agent may see a ticket (``inbox.core.access.visible_tickets``) as separate
    conditions, each served by an index in waiting order; None for leads (they see all)."""
    if not access.can_work(user) or access.can_assign(user):
        return None
    return [
        Q(team__isnull=True),
        Q(assignee=user),
        *(Q(team_id=team_id) for team_id in access.team_ids(user)),
    ]


def parse_until(raw: str, tz) -> dt.datetime | None:
    """A snooze time from a datetime-local input, in the agent's time zone."""
    value = parse_datetime(raw)
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value
