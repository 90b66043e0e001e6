"""Routing rules: list in evaluation order, create, edit, reorder, enable, disable, delete, and
try them on a pasted message.

Leads and admins edit rules (they decide where work goes); agents get 403. Every change goes
through a service in ``inbox.engines.routing`` (``rule_create``, ``rule_update``, ``rule_move``,
``rule_delete``), which validates and writes the audit row; its validation errors are shown on
the form. The test box evaluates with ``inbox.engines.routing.rule_matches`` and stores nothing.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels.models import Channel
from inbox.core.access import assignable_ids
from inbox.core.decorators import lead_required
from inbox.engines import intent as intent_engine
from inbox.engines.routing import (
    CONDITION_FIELDS,
    Facts,
    keyword_list,
    load_rules,
    rule_create,
    rule_delete,
    rule_matches,
    rule_move,
    rule_update,
)
from inbox.models import Activity, CloseReason, Incident, Rule, Tag, Team, TicketKind
from inbox.tickets.services import tag_name_clean

User = get_user_model()

# How far back the list counts each rule's matches.
MATCH_WINDOW = dt.timedelta(days=7)

INTENT_LABELS = {
    "complaint": gettext_lazy("complaint"),
    "question": gettext_lazy("question"),
    "compliment": gettext_lazy("compliment"),
    "other": gettext_lazy("other"),
}
VERIFIED_CHOICES = [
    ("", gettext_lazy("Either")),
    ("yes", gettext_lazy("Verified only")),
    ("no", gettext_lazy("Not verified only")),
]
CLOSE_CHOICES = [
    ("", gettext_lazy("Do not close")),
    (CloseReason.SPAM, gettext_lazy("Close as spam")),
    (CloseReason.NO_REPLY_NEEDED, gettext_lazy("Close: no reply needed")),
]


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


# --- forms ------------------------------------------------------------------------------------
class RuleForm(forms.Form):
    """Every condition and action of :class:`~inbox.models.Rule`. Bounds (stars, actions) are
    checked by the services, whose messages land on the matching field."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120, required=False)
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False)
    stop_processing = forms.BooleanField(
        label=gettext_lazy("Stop after this rule"),
        required=False,
        help_text=gettext_lazy("When it matches, later rules are not tried."),
    )
    # Conditions.
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Any channel"),
    )
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Kinds"),
        choices=TicketKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: any kind."),
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line or comma-separated; any one matches, whole words."),
    )
    languages = forms.CharField(
        label=gettext_lazy("Languages"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Language codes, comma-separated (nl, en); empty: any."),
    )
    min_rating = forms.IntegerField(label=gettext_lazy("Stars from"), required=False)
    max_rating = forms.IntegerField(label=gettext_lazy("Stars up to"), required=False)
    min_followers = forms.IntegerField(
        label=gettext_lazy("Author has at least this many followers"), required=False, min_value=0
    )
    verified = forms.ChoiceField(
        label=gettext_lazy("Verified author"), choices=VERIFIED_CHOICES, required=False
    )
    intents = forms.MultipleChoiceField(
        label=gettext_lazy("Intents"),
        choices=list(INTENT_LABELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: any intent."),
    )
    # Actions.
    set_team = forms.ModelChoiceField(
        label=gettext_lazy("Set team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Leave the team"),
    )
    tags = forms.CharField(
        label=gettext_lazy("Add tags"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Comma-separated; new tags are created."),
    )
    priority_points = forms.IntegerField(
        label=gettext_lazy("Priority points"),
        required=False,
        min_value=-100,
        max_value=100,
        help_text=gettext_lazy("Added to the ticket's priority, named after this rule."),
    )
    assign_to = forms.ModelChoiceField(
        label=gettext_lazy("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Nobody"),
    )
    close_reason = forms.ChoiceField(
        label=gettext_lazy("Close"), choices=CLOSE_CHOICES, required=False
    )
    link_incident = forms.ModelChoiceField(
        label=gettext_lazy("Link to incident"),
        queryset=Incident.objects.none(),
        required=False,
        empty_label=gettext_lazy("No incident"),
    )

    def __init__(self, *args, rule: Rule | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Active people with a role, and whoever the rule names now (even deactivated, so the
        # rest of the rule can be saved; routing skips an inactive assignee).
        current = rule.assign_to_id if rule else None
        self.fields["assign_to"].queryset = (
            User.objects.filter(
                Q(is_active=True, groups__name__in=["agent", "lead", "admin"]) | Q(pk=current)
            )
            .distinct()
            .order_by("first_name", "username")
        )
        self.fields["assign_to"].label_from_instance = _person
        # Open incidents; a resolved one stays choosable on the rule that links it.
        self.fields["link_incident"].queryset = Incident.objects.order_by("-declared_at")

    GROUPS = (
        (gettext_lazy("Rule"), ("name", "enabled", "stop_processing")),
        (gettext_lazy("When (all that are set must hold)"), CONDITION_FIELDS),
        (
            gettext_lazy("Then (at least one)"),
            ("set_team", "tags", "priority_points", "assign_to", "close_reason", "link_incident"),
        ),
    )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields in the form's three fieldsets."""
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def clean_languages(self) -> list[str]:
        return [code.lower()[:8] for code in _split(self.cleaned_data["languages"])]

    def clean_tags(self) -> list[str]:
        names = [tag_name_clean(name) for name in _split(self.cleaned_data["tags"])]
        return list(dict.fromkeys(n for n in names if n))

    def clean_verified(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["verified"])

    def rule_fields(self) -> dict:
        """The cleaned values as ``rule_create`` / ``rule_update`` keyword arguments."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "enabled",
                "stop_processing",
                "channel",
                "kinds",
                "languages",
                "min_rating",
                "max_rating",
                "min_followers",
                "verified",
                "intents",
                "set_team",
                "priority_points",
                "assign_to",
                "close_reason",
                "link_incident",
            )
        }
        fields["keywords"] = data["keywords"].strip()
        return fields

    @staticmethod
    def initial_for(rule: Rule) -> dict:
        return {
            "name": rule.name,
            "enabled": rule.enabled,
            "stop_processing": rule.stop_processing,
            "channel": rule.channel_id,
            "kinds": rule.kinds,
            "keywords": rule.keywords,
            "languages": ", ".join(rule.languages or []),
            "min_rating": rule.min_rating,
            "max_rating": rule.max_rating,
            "min_followers": rule.min_followers,
            "verified": {True: "yes", False: "no"}.get(rule.verified, ""),
            "intents": rule.intents,
            "set_team": rule.set_team_id,
            "tags": ", ".join(t.name for t in rule.add_tags.all()),
            "priority_points": rule.priority_points,
            "assign_to": rule.assign_to_id,
            "close_reason": rule.close_reason,
            "link_incident": rule.link_incident_id,
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        for name, errors in exc.message_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class RuleTestForm(forms.Form):
    """A message to try the rules on: nothing is stored."""

    text = forms.CharField(
        label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=TicketKind.choices, initial=TicketKind.MENTION
    )
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("None in particular"),
    )
    language = forms.CharField(label=gettext_lazy("Language"), max_length=8, required=False)
    rating = forms.IntegerField(
        label=gettext_lazy("Stars"), required=False, min_value=1, max_value=5
    )
    followers = forms.IntegerField(label=gettext_lazy("Followers"), required=False, min_value=0)
    verified = forms.BooleanField(label=gettext_lazy("Verified author"), required=False)
    rule = forms.ModelChoiceField(
        queryset=Rule.objects.all(), required=False, widget=forms.HiddenInput
    )

    def facts(self) -> tuple[Facts, str]:
        """The facts rules see, and the intent (classified from the text, as ingest does)."""
        data = self.cleaned_data
        found = intent_engine.classify(data["text"], rating=data["rating"]).intent
        return (
            Facts(
                channel_id=data["channel"].pk if data["channel"] else 0,
                kind=data["kind"],
                text=data["text"],
                language=(data["language"] or "").lower(),
                rating=data["rating"],
                followers=data["followers"],
                verified=data["verified"],
                intent=found,
            ),
            found,
        )


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
        name = _person(rule.assign_to)
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
def rule_list(request: HttpRequest) -> HttpResponse:
    """Every rule in evaluation order, in plain words, with its matches of the last 7 days
    (five queries of its own, whatever the number of rules)."""
    return render(
        request, "inbox/engines/rules/rules.html", _list_context(test_form=RuleTestForm())
    )


def _list_context(**extra) -> dict:
    rules = _rules_for_list()
    channels = dict(Channel.objects.values_list("pk", "name"))
    counts = match_counts(since=timezone.now() - MATCH_WINDOW)
    for index, rule in enumerate(rules):
        rule.conditions_text = describe_conditions(rule, channels)
        rule.actions_text = describe_actions(rule)
        rule.matches = counts.get(rule.pk, 0)
        rule.is_first = index == 0
        rule.is_last = index == len(rules) - 1
    return {"rules": rules, **extra}


def _save(request: HttpRequest, rule: Rule | None) -> HttpResponse:
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


def _write(request: HttpRequest, rule: Rule | None, name: str, tags: list[Tag], fields) -> Rule:
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
def rule_new(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _save(request, get_object_or_404(Rule, pk=rule_id))


@require_POST
@lead_required
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
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
def rule_reorder(request: HttpRequest, rule_id: int) -> HttpResponse:
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
def rule_remove(request: HttpRequest, rule_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method == "POST":
        rule_delete(rule=rule, actor=request.user)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect("pages:rules")
    return render(request, "inbox/engines/rules/rule_delete.html", {"rule": rule})


@require_GET
@lead_required
def rule_test(request: HttpRequest) -> HttpResponse:
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
