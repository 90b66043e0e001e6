"""Routing rules: where a new ticket goes, evaluated at ingest, explained on the ticket.

Each enabled :class:`~inbox.models.Rule` is tried in ``position`` order on every ticket created
by an ingest batch. A rule matches when all its set conditions hold; its actions then apply
(team, tags, priority points, assignee, close as spam / no reply needed) and an entry is appended
to ``Ticket.routing_trace``: which rule, which conditions matched, what it did — the answer to
"why is this here?". A rule with ``stop_processing`` ends the evaluation for that ticket.

Rules see the ticket *after* intent classification, so "intent is complaint" is a condition.
Evaluation is in memory; the rules, the tag links and the activity rows cost one query each per
batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from inbox.audit.services import activity_log
from inbox.core import access
from inbox.engines.config_stamp import config_bump
from inbox.engines.intent import INTENTS
from inbox.models import (
    Activity,
    CloseReason,
    Direction,
    IncidentTicket,
    Message,
    Rule,
    Tag,
    Ticket,
    TicketKind,
)
from inbox.tickets.services import assignee_set, closed_set

if TYPE_CHECKING:
    from inbox.engines.priority import Reach


@dataclass
class Routed:
    """What routing decided beyond the ticket fields: links to save after the tickets."""

    tag_links: list[tuple[int, int]] = field(default_factory=list)
    # (ticket id, incident id, rule id)
    incident_links: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Facts:
    """What rules may test about a ticket."""

    channel_id: int
    kind: str
    text: str
    language: str
    rating: int | None
    followers: int | None
    verified: bool
    intent: str


def keyword_list(text: str) -> list[str]:
    return [k.strip().lower() for k in re.split(r"[,\n]", text or "") if k.strip()]


def _keyword_found(keyword: str, text: str) -> bool:
    # Whole words (or phrases), case-insensitive: "refund" does not match "refunded?" wrongly
    # as a substring of another word, but does match "Refund!".
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text) is not None


def rule_matches(rule: Rule, facts: Facts) -> list[str] | None:
    """The conditions that held, described for the trace; None when the rule does not match."""
    matched: list[str] = []
    if rule.channel_id is not None:
        if rule.channel_id != facts.channel_id:
            return None
        matched.append(f"channel {rule.channel_id}")
    if rule.kinds:
        if facts.kind not in rule.kinds:
            return None
        matched.append(f"kind {facts.kind}")
    keywords = keyword_list(rule.keywords)
    if keywords:
        text = facts.text.lower()
        hit = next((k for k in keywords if _keyword_found(k, text)), None)
        if hit is None:
            return None
        matched.append(f"keyword “{hit}”")
    if rule.languages:
        if facts.language not in rule.languages:
            return None
        matched.append(f"language {facts.language}")
    if rule.min_rating is not None or rule.max_rating is not None:
        if facts.rating is None:
            return None
        if rule.min_rating is not None and facts.rating < rule.min_rating:
            return None
        if rule.max_rating is not None and facts.rating > rule.max_rating:
            return None
        matched.append(f"{facts.rating} stars")
    if rule.min_followers is not None:
        if (facts.followers or 0) < rule.min_followers:
            return None
        matched.append(f"{facts.followers} followers ≥ {rule.min_followers}")
    if rule.verified is not None:
        if facts.verified != rule.verified:
            return None
        matched.append("verified author" if facts.verified else "unverified author")
    if rule.intents:
        if facts.intent not in rule.intents:
            return None
        matched.append(f"intent {facts.intent}")
    return matched


def _assigns(rule: Rule, assignable: set[int]) -> bool:
    """A rule assigns only to someone who may take tickets (``access.assignable_ids``, read
    per batch): a deactivated agent, or one whose role was taken away, gets no new tickets."""
    return bool(rule.assign_to_id and rule.assign_to_id in assignable)


def _actions(rule: Rule, tags: list[Tag], assignable: set[int]) -> list[str]:
    done = []
    if rule.set_team_id:
        done.append(f"team → {rule.set_team.name if rule.set_team else rule.set_team_id}")
    if tags:
        done.append("tags + " + ", ".join(t.name for t in tags))
    if rule.priority_points:
        done.append(f"priority {rule.priority_points:+d}")
    if _assigns(rule, assignable) and rule.assign_to is not None:
        done.append(f"assigned to {rule.assign_to.get_username()}")
    if rule.close_reason:
        done.append(f"closed: {rule.get_close_reason_display().lower()}")
    if rule.link_incident_id and rule.link_incident:
        done.append(f"linked to incident “{rule.link_incident.title}”")
    return done


def load_rules() -> list[Rule]:
    return list(
        Rule.objects.filter(enabled=True)
        .select_related("set_team", "assign_to", "link_incident")
        .prefetch_related("add_tags")
        .order_by("position", "pk")
    )


def routing_apply(
    *,
    tickets: Sequence[Ticket],
    rules: Sequence[Rule],
    texts: dict[int, str],
    identities: dict[int, Reach],
    now: dt.datetime,
) -> Routed:
    """Apply ``rules`` to ``tickets`` in memory. ``texts`` holds each ticket's new customer text.

    Returns the tag and incident links to save; the caller saves tickets, links
    (:func:`routing_save`) and activities (:func:`routing_activities`).
    """
    routed = Routed()
    if not rules:
        return routed
    # Read per batch, not kept with the cached rules: a role taken away holds at once. A query
    # only when some rule assigns.
    assignable = access.assignable_ids({rule.assign_to_id for rule in rules})
    for ticket in tickets:
        identity = identities.get(ticket.identity_id) if ticket.identity_id else None
        facts = Facts(
            channel_id=ticket.channel_id,
            kind=ticket.kind,
            text=texts.get(ticket.pk, ""),
            language=ticket.language,
            rating=ticket.rating,
            followers=identity.followers if identity else None,
            verified=bool(identity and identity.verified),
            intent=ticket.intent,
        )
        for rule in rules:
            matched = rule_matches(rule, facts)
            if matched is None:
                continue
            tags = list(rule.add_tags.all())
            entry: dict[str, Any] = {
                "rule": rule.pk,
                "name": rule.name,
                "at": now.isoformat(),
                "matched": matched,
                "actions": _actions(rule, tags, assignable),
            }
            if rule.set_team_id:
                ticket.team_id = rule.set_team_id
            if rule.priority_points:
                entry["priority"] = rule.priority_points
            # The field logic of ticket_assign and ticket_close (inbox.tickets.services), on
            # the rows ingest writes: the ingest is the writer here, once per batch.
            if _assigns(rule, assignable):
                assignee_set(ticket, rule.assign_to_id)
            if rule.close_reason:
                closed_set(ticket, reason=rule.close_reason, now=now)
                ticket.waiting_since = None  # closed by a rule: nobody waits for an answer
            routed.tag_links.extend((ticket.pk, tag.pk) for tag in tags)
            incident = rule.link_incident if rule.link_incident_id else None
            if rule.link_incident_id and incident is not None and incident.status == "open":
                routed.incident_links.append((ticket.pk, rule.link_incident_id, rule.pk))
            ticket.routing_trace = [*(ticket.routing_trace or []), entry]
            if rule.stop_processing:
                entry["stopped"] = True
                break
    return routed


def routing_save(routed: Routed, *, now: dt.datetime) -> None:
    """Save the tag and incident links routing decided (one query each, when there are any)."""
    through = Ticket.tags.through
    rows = [through(ticket_id=t, tag_id=g) for t, g in set(routed.tag_links)]
    if rows:
        through.objects.bulk_create(rows, ignore_conflicts=True)
    links = [
        IncidentTicket(incident_id=i, ticket_id=t, rule_id=r, linked_at=now)
        for t, i, r in routed.incident_links
    ]
    if links:
        IncidentTicket.objects.bulk_create(links, ignore_conflicts=True)


def routing_activities(tickets: Iterable[Ticket], now: dt.datetime) -> list[Activity]:
    """One "routed" activity per ticket a rule touched at ``now``."""
    stamp = now.isoformat()
    out = []
    for ticket in tickets:
        entries = [e for e in ticket.routing_trace or [] if e.get("at") == stamp]
        if entries:
            out.append(
                Activity(
                    ticket_id=ticket.pk,
                    verb="routed",
                    after={"rules": [e["rule"] for e in entries], "trace": entries},
                    created_at=now,
                )
            )
    return out


def new_customer_texts(messages: Iterable[Message]) -> dict[int, str]:
    texts: dict[int, list[str]] = {}
    for message in messages:
        if message.direction == Direction.INBOUND:
            texts.setdefault(message.ticket_id, []).append(message.text)
    return {pk: "\n".join(parts) for pk, parts in texts.items()}


# --- services for the rule editor ---------------------------------------------------------------
CONDITION_FIELDS = (
    "channel",
    "kinds",
    "keywords",
    "languages",
    "min_rating",
    "max_rating",
    "min_followers",
    "verified",
    "intents",
)
ACTION_FIELDS = ("set_team", "priority_points", "assign_to", "close_reason", "link_incident")
EDITABLE = ("name", "enabled", "stop_processing", *CONDITION_FIELDS, *ACTION_FIELDS)


def _validate(rule: Rule, *, tags_pending: bool = False) -> None:
    errors: dict[str, str] = {}
    if not rule.name.strip():
        errors["name"] = "A rule needs a name."
    bad_kinds = set(rule.kinds or []) - set(TicketKind.values)
    if bad_kinds:
        errors["kinds"] = f"Unknown kinds: {', '.join(sorted(bad_kinds))}."
    bad_intents = set(rule.intents or []) - set(INTENTS)
    if bad_intents:
        errors["intents"] = f"Unknown intents: {', '.join(sorted(bad_intents))}."
    if rule.close_reason not in CloseReason.values:
        errors["close_reason"] = "Unknown close reason."
    for name in ("min_rating", "max_rating"):
        value = getattr(rule, name)
        if value is not None and not 1 <= value <= 5:
            errors[name] = "Stars go from 1 to 5."
    if rule.min_rating and rule.max_rating and rule.min_rating > rule.max_rating:
        errors["max_rating"] = "The maximum is below the minimum."
    if (
        not any(
            [
                rule.set_team_id,
                rule.priority_points,
                rule.assign_to_id,
                rule.close_reason,
                rule.link_incident_id,
                rule.pk and rule.add_tags.exists(),
            ]
        )
        and not tags_pending
    ):
        errors["__all__"] = "A rule needs at least one action."
    if errors:
        raise ValidationError(errors)


def _snapshot(rule: Rule) -> dict[str, Any]:
    # The id first: the audit log names a row's subject by it.
    data: dict[str, Any] = {"rule": rule.pk}
    for name in EDITABLE:
        field = Rule._meta.get_field(name)
        assert isinstance(field, models.Field)  # EDITABLE names the rule's own columns
        data[name] = getattr(rule, field.attname)
    data["position"] = rule.position
    data["add_tags"] = sorted(rule.add_tags.values_list("pk", flat=True)) if rule.pk else []
    return data


def rule_create(
    *,
    actor: User | None,
    name: str,
    tags: Iterable[Tag] = (),
    position: int | None = None,
    **fields: Any,
) -> Rule:
    """Create a rule, last in order unless ``position`` is given (then later ones move down)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not rule fields: {', '.join(sorted(unknown))}")
    tags = list(tags)
    with transaction.atomic():
        if position is None:
            last = Rule.objects.order_by("-position").values_list("position", flat=True).first()
            position = 0 if last is None else last + 1
        else:
            Rule.objects.filter(position__gte=position).update(position=F("position") + 1)
        rule = Rule(
            name=name,
            position=position,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            **fields,
        )
        _validate(rule, tags_pending=bool(tags))
        rule.save()
        rule.add_tags.set(tags)
        activity_log(ticket=None, actor=actor, verb="rule_created", after=_snapshot(rule))
    return rule


def rule_update(
    *, rule: Rule, actor: User | None, tags: Iterable[Tag] | None = None, **changes
) -> Rule:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not rule fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        before = _snapshot(rule)
        for name, value in changes.items():
            setattr(rule, name, value)
        if tags is not None:
            tags = list(tags)
            if not tags:
                rule.add_tags.clear()
        _validate(rule, tags_pending=bool(tags))
        rule.updated_at = timezone.now()
        rule.save()
        if tags is not None:
            rule.add_tags.set(tags)
        activity_log(
            ticket=None, actor=actor, verb="rule_updated", before=before, after=_snapshot(rule)
        )
    return rule


def rule_move(*, rule: Rule, actor: User | None, position: int) -> list[Rule]:
    """Put ``rule`` at ``position`` (0 = first) and renumber all rules 0..n-1."""
    with transaction.atomic():
        rules = list(Rule.objects.select_for_update().order_by("position", "pk"))
        moving = next(r for r in rules if r.pk == rule.pk)
        rules.remove(moving)
        rules.insert(max(0, min(position, len(rules))), moving)
        before = moving.position
        for index, r in enumerate(rules):
            r.position = index
        Rule.objects.bulk_update(rules, ["position"])
        config_bump()  # bulk_update sends no post_save
        activity_log(
            ticket=None,
            actor=actor,
            verb="rule_moved",
            before={"rule": moving.pk, "position": before},
            after={"rule": moving.pk, "position": moving.position},
        )
    return rules


def rule_delete(*, rule: Rule, actor: User | None) -> None:
    with transaction.atomic():
        snapshot = _snapshot(rule)
        snapshot["id"] = rule.pk
        rule.delete()
        activity_log(ticket=None, actor=actor, verb="rule_deleted", before=snapshot)


def rules_explain(*, ticket: Ticket) -> list[dict[str, Any]]:
    """ "Why is this here?": the rules that touched the ticket, newest last."""
    return list(ticket.routing_trace or [])
