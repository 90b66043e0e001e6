"""The routing-rules page's forms: every condition and action of a rule, and trying rules on a
pasted message."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from channels.models import Channel
from inbox.core.forms import PersonChoiceField
from inbox.engines import intent as intent_engine
from inbox.engines.routing import (
    CONDITION_FIELDS,
    Facts,
)
from inbox.models import CloseReason, Incident, IncidentStatus, Rule, Team, TicketKind
from inbox.tickets.services import tag_name_clean

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
    assign_to = PersonChoiceField(
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
        cast(forms.ModelChoiceField, self.fields["assign_to"]).queryset = (
            User.objects.filter(
                Q(is_active=True, groups__name__in=["agent", "lead", "admin"]) | Q(pk=current)
            )
            .distinct()
            .order_by("first_name", "username")
        )
        # Open incidents; a resolved one stays choosable on the rule that links it.
        linked = rule.link_incident_id if rule else None
        link_incident = cast(forms.ModelChoiceField, self.fields["link_incident"])
        link_incident.queryset = Incident.objects.filter(
            Q(status=IncidentStatus.OPEN) | Q(pk=linked)
        ).order_by("-declared_at")

    GROUPS = (
        (gettext_lazy("Rule"), ("name", "enabled", "stop_processing")),
        (gettext_lazy("When (all that are set must hold)"), CONDITION_FIELDS),
        (
            gettext_lazy("Then (at least one)"),
            ("set_team", "tags", "priority_points", "assign_to", "close_reason", "link_incident"),
        ),
    )

    def groups(self) -> list[tuple[str | Promise, list[forms.BoundField]]]:
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
            "verified": {True: "yes", False: "no", None: ""}[rule.verified],
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
