"""Routing rules: list in evaluation order, create, edit, reorder, enable, disable, delete, and
try them on a pasted message.

Leads and admins edit rules (they decide where work goes); agents get 403. Every change goes
through a service in ``inbox.engines.routing`` (``rule_create``, ``rule_update``, ``rule_move``,
``rule_delete``), which validates and writes the audit row; its validation errors are shown on
the form. The test box evaluates with ``inbox.engines.routing.rule_matches`` and stores nothing.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels.models import Channel
from inbox.core.access import assignable_ids
from inbox.core.decorators import lead_required
from inbox.core.forms import person_label
from inbox.engines.forms import INTENT_LABELS, RuleForm, RuleTestForm
from inbox.engines.routing import (
    keyword_list,
    load_rules,
    rule_create,
    rule_delete,
    rule_matches,
    rule_move,
    rule_update,
)
from inbox.models import Activity, CloseReason, Rule, Tag, TicketKind
from webcare.http import AuthedRequest

User = get_user_model()

# How far back the list counts each rule's matches.
MATCH_WINDOW = dt.timedelta(days=7)


# --- plain words ------------------------------------------------------------------------------
def describe_conditions(rule: Rule, channels: dict[int, str]) -> list[str]:
    """The rule's conditions as a lead reads them ("keyword refund or terugbetaling")."""
    kinds = dict(TicketKind.choices)
    out = []
    if rule.channel_id:
        out.append(_("on %(channel)s") % {"channel": channels.get(rule.channel_id, "?")})
    if rule.kinds:
        out.append(
            _("kind is %(kinds)s")
            % {"kinds": _(" or ").join(str(kinds.get(k, k)).lower() for k in rule.kinds)}
        )
    words = keyword_list(rule.keywords)
    if words:
        out.append(_("mentions %(words)s") % {"words": _(" or ").join(f"“{w}”" for w in words)})
    if rule.languages:
        out.append(_("language %(codes)s") % {"codes": _(" or ").join(rule.languages)})
    if rule.min_rating is not None and rule.max_rating is not None:
        out.append(_("%(a)s to %(b)s stars") % {"a": rule.min_rating, "b": rule.max_rating})
    elif rule.min_rating is not None:
        out.append(_("at least %(n)s stars") % {"n": rule.min_rating})
    elif rule.max_rating is not None:
        out.append(_("at most %(n)s stars") % {"n": rule.max_rating})
    if rule.min_followers is not None:
        out.append(_("author has %(n)s+ followers") % {"n": rule.min_followers})
    if rule.verified is True:
        out.append(_("verified author"))
    elif rule.verified is False:
        out.append(_("unverified author"))
    if rule.intents:
        out.append(
            _("intent is %(intents)s")
            % {"intents": _(" or ").join(str(INTENT_LABELS.get(i, i)) for i in rule.intents)}
        )
    return out or [_("every new ticket")]


def describe_actions(rule: Rule) -> list[str]:
    out = []
    if rule.set_team_id and rule.set_team:
        out.append(_("team → %(team)s") % {"team": rule.set_team.name})
    tags = [t.name for t in rule.add_tags.all()]
    if tags:
        out.append(_("add tags %(tags)s") % {"tags": ", ".join(tags)})
    if rule.priority_points:
        out.append(_("priority %(points)+d") % {"points": rule.priority_points})
    if rule.assign_to_id and rule.assign_to:
        name = person_label(rule.assign_to)
        if not rule.assign_to.is_active:
            out.append(_("assign to %(name)s (deactivated: skipped)") % {"name": name})
        elif rule.assign_to_id not in assignable_ids([rule.assign_to_id]):
            # Routing skips them too (inbox.engines.routing._assigns): say so where the rule is
            # read.
            skipped = _("assign to %(name)s (no role that works tickets: skipped)")
            out.append(skipped % {"name": name})
        else:
            out.append(_("assign to %(name)s") % {"name": name})
    if rule.close_reason == CloseReason.SPAM:
        out.append(_("close as spam"))
    elif rule.close_reason == CloseReason.NO_REPLY_NEEDED:
        out.append(_("close: no reply needed"))
    if rule.link_incident_id and rule.link_incident:
        out.append(_("link to incident “%(title)s”") % {"title": rule.link_incident.title})
    return out


def match_counts(*, since: dt.datetime) -> dict[int, int]:
    """How many tickets each rule routed since ``since``: one grouped query over the ``routed``
    activities (served by ``activity_verb_time``), unnesting their list of rule ids."""
    table = Activity._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            "SELECT r.value::int, COUNT(*) FROM "  # noqa: S608 - table name from the model
            f"{table} a, jsonb_array_elements_text(a.after -> 'rules') r "
            "WHERE a.verb = 'routed' AND a.created_at >= %s GROUP BY 1"
        )
    else:
        sql = (
            "SELECT CAST(r.value AS INTEGER), COUNT(*) FROM "  # noqa: S608 - as above
            f"{table} a, json_each(a.after, '$.rules') r "
            "WHERE a.verb = 'routed' AND a.created_at >= %s GROUP BY 1"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since])
        return {int(rule_id): n for rule_id, n in cursor.fetchall()}


def _rules_for_list() -> list[Rule]:
    return list(
        Rule.objects.select_related("set_team", "assign_to", "link_incident")
        .prefetch_related("add_tags")
        .order_by("position", "pk")
    )


# --- views ------------------------------------------------------------------------------------
@require_GET
@lead_required
def rule_list(request: AuthedRequest) -> HttpResponse:
    """Every rule in evaluation order, in plain words, with its matches of the last 7 days
    (five queries of its own, whatever the number of rules)."""
    return render(
        request, "inbox/engines/rules/rules.html", _list_context(test_form=RuleTestForm())
    )


def _list_context(**extra) -> dict:
    rules = _rules_for_list()
    channels = dict(Channel.objects.values_list("pk", "name"))
    counts = match_counts(since=timezone.now() - MATCH_WINDOW)
    # Each rule with what the table shows of it: its conditions and actions in words, and how
    # many tickets it matched in the window.
    rows = [
        (rule, describe_conditions(rule, channels), describe_actions(rule), counts.get(rule.pk, 0))
        for rule in rules
    ]
    return {"rules": rows, **extra}


def _save(request: AuthedRequest, rule: Rule | None) -> HttpResponse:
    initial = RuleForm.initial_for(rule) if rule else {"enabled": True}
    form = RuleForm(request.POST or None, initial=initial, rule=rule)
    if request.method == "POST" and form.is_valid():
        fields = form.rule_fields()
        try:
            # One transaction: tags made for a rule the service refuses are rolled back.
            with transaction.atomic():
                tags = [Tag.objects.get_or_create(name=n)[0] for n in form.cleaned_data["tags"]]
                rule = _write(request, rule, form.cleaned_data["name"], tags, fields)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("pages:rules")
    return render(
        request,
        "inbox/engines/rules/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "test_form": _test_form_for(rule) if rule else None,
        },
        status=400 if form.errors else 200,
    )


def _test_form_for(rule: Rule) -> RuleTestForm:
    """The test box of one rule, preset to the channel and kind it asks for."""
    initial = {"rule": rule.pk, "channel": rule.channel_id}
    if rule.kinds:
        initial["kind"] = rule.kinds[0]
    return RuleTestForm(initial=initial)


def _write(request: AuthedRequest, rule: Rule | None, name: str, tags: list[Tag], fields) -> Rule:
    if rule is None:
        rule = rule_create(actor=request.user, name=name, tags=tags, **fields)
        messages.success(request, _("Rule created."))
    else:
        rule = rule_update(rule=rule, actor=request.user, name=name, tags=tags, **fields)
        messages.success(request, _("Rule saved."))
    return rule


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def rule_new(request: AuthedRequest) -> HttpResponse:
    return _save(request, None)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    return _save(request, get_object_or_404(Rule, pk=rule_id))


@require_POST
@lead_required
def rule_toggle(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    try:
        rule_update(rule=rule, actor=request.user, enabled=not rule.enabled)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (_("“%(name)s” enabled.") if not rule.enabled else _("“%(name)s” disabled."))
            % {"name": rule.name},
        )
    return redirect("pages:rules")


@require_POST
@lead_required
def rule_reorder(request: AuthedRequest, rule_id: int) -> HttpResponse:
    """Move a rule one place up or down in the evaluation order."""
    rule = get_object_or_404(Rule, pk=rule_id)
    order = list(Rule.objects.order_by("position", "pk").values_list("pk", flat=True))
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if step is None:
        messages.error(request, _("Move up or down."))
    else:
        rule_move(rule=rule, actor=request.user, position=max(0, order.index(rule.pk) + step))
    return redirect("pages:rules")


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def rule_remove(request: AuthedRequest, rule_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method == "POST":
        rule_delete(rule=rule, actor=request.user)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect("pages:rules")
    return render(request, "inbox/engines/rules/rule_delete.html", {"rule": rule})


@require_GET
@lead_required
def rule_test(request: AuthedRequest) -> HttpResponse:
    """Which rules a pasted message would match, and what they would do: the enabled rules in
    order (stopping where one stops processing), or one rule when ``rule`` is given. Stores
    nothing. htmx gets the result alone."""
    form = RuleTestForm(request.GET)
    results, stopped, found_intent = [], False, None
    if form.is_valid():
        facts, found_intent = form.facts()
        one = form.cleaned_data["rule"]
        rules = [one] if one else load_rules()  # load_rules: enabled ones, as ingest sees them
        for rule in rules:
            matched = rule_matches(rule, facts)
            results.append(
                {
                    "rule": rule,
                    "matched": matched,
                    "actions": describe_actions(rule) if matched is not None else [],
                    "skipped": stopped,
                }
            )
            if matched is not None and rule.stop_processing and not one:
                stopped = True
    context = {
        "test_form": form,
        "results": results,
        "intent": INTENT_LABELS.get(found_intent, found_intent) if found_intent else None,
        "tested": form.is_bound,
    }
    if request.htmx:
        return render(request, "inbox/engines/rules/rules.html#test-result", context)
    return render(request, "inbox/engines/rules/rules.html", _list_context(**context))


urlpatterns = [
    path("", rule_list, name="rules"),
    path("new/", rule_new, name="rules_new"),
    path("test/", rule_test, name="rules_test"),
    path("<int:rule_id>/", rule_edit, name="rules_edit"),
    path("<int:rule_id>/toggle/", rule_toggle, name="rules_toggle"),
    path("<int:rule_id>/move/", rule_reorder, name="rules_move"),
    path("<int:rule_id>/delete/", rule_remove, name="rules_delete"),
]
