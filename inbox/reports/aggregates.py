"""The building blocks of every report: duration statistics with nearest-rank percentiles, and
the tickets a report counts."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
)

from inbox.models import Ticket


@dataclass(frozen=True, slots=True)
class DurationStats:
    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None

    def as_row(self, name: str) -> dict[str, Any]:
        def minutes(value: dt.timedelta | None) -> float | None:
            return None if value is None else round(value.total_seconds() / 60, 1)

        return {
            "measure": name,
            "count": self.count,
            "median_minutes": minutes(self.median),
            "p90_minutes": minutes(self.p90),
        }


def _percentile(queryset: QuerySet, expression, p: float, count: int) -> dt.timedelta | None:
    if count == 0:
        return None
    k = max(1, math.ceil(p * count)) - 1
    annotated = queryset.annotate(
        _d=ExpressionWrapper(expression, output_field=DurationField())
    ).order_by("_d")
    return annotated.values_list("_d", flat=True)[k]


class PercentileDisc(Aggregate):
    """PostgreSQL's ``percentile_disc(p) WITHIN GROUP (ORDER BY expr)``: nearest rank."""

    function = "percentile_disc"
    template = "%(function)s(%(p)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, p: float, output_field=None, **extra):
        super().__init__(
            expression, p=float(p), output_field=output_field or DurationField(), **extra
        )


def _duration(start_field: str, end_field: str):
    return ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField())


def duration_stats(queryset: QuerySet, start_field: str, end_field: str) -> DurationStats:
    """Median and p90 of ``end_field - start_field`` over rows where both are set.

    PostgreSQL: one scan with ``percentile_disc``. Elsewhere: a count and one ordered query per
    percentile; the same numbers.
    """
    rows = queryset.filter(**{f"{start_field}__isnull": False, f"{end_field}__isnull": False})
    expression = F(end_field) - F(start_field)
    if connection.vendor == "postgresql":
        result = rows.aggregate(
            count=Count("id"),
            median=PercentileDisc(_duration(start_field, end_field), 0.5),
            p90=PercentileDisc(_duration(start_field, end_field), 0.9),
        )
        return DurationStats(result["count"], result["median"], result["p90"])
    count = rows.count()
    return DurationStats(
        count=count,
        median=_percentile(rows, expression, 0.5, count),
        p90=_percentile(rows, expression, 0.9, count),
    )


def seconds_stats(queryset: QuerySet, field: str) -> DurationStats:
    """Median and p90 of a stored number of seconds (rows where it is set), as durations."""
    rows = queryset.filter(**{f"{field}__isnull": False})
    values: tuple[Any, ...]  # median and p90, each None without rows
    if connection.vendor == "postgresql":
        result = rows.aggregate(
            count=Count("id"),
            median=PercentileDisc(F(field), 0.5, output_field=IntegerField()),
            p90=PercentileDisc(F(field), 0.9, output_field=IntegerField()),
        )
        count, values = result["count"], (result["median"], result["p90"])
    else:
        count = rows.count()
        values = tuple(
            rows.order_by(field).values_list(field, flat=True)[max(1, math.ceil(p * count)) - 1]
            if count
            else None
            for p in (0.5, 0.9)
        )
    median, p90 = (None if v is None else dt.timedelta(seconds=v) for v in values)
    return DurationStats(count, median, p90)


def _tickets(team_id: int | None = None, channel_id: int | None = None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    if channel_id is not None:
        tickets = tickets.filter(channel_id=channel_id)
    return tickets
