"""The channel form: common fields plus what the connector kind declares.

Credentials are write-only: inputs start empty, an empty input keeps the stored value, and the
page shows only which credentials are set.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inbox.models import Team

from .base import Connector


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    poll_interval = forms.IntegerField(
        min_value=5, max_value=86_400, initial=60, label=_("Poll interval (seconds)")
    )
    enabled = forms.BooleanField(required=False, initial=True, label=_("Enabled"))
    default_team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, label=_("Team for new tickets")
    )
    own_account_id = forms.CharField(
        max_length=64,
        required=False,
        label=_("Our account id on the platform"),
        help_text=_("Filled in by 'Test connection'; our own messages are recognised by it."),
    )
    # Four-eyes review (inbox.replies.review); stored as settings["approval"].
    approval = forms.ChoiceField(
        required=False,
        label=_("Replies need a lead's approval"),
        choices=[
            ("", _("No (only trainees' replies)")),
            ("public", _("Public replies")),
            ("all", _("All replies")),
        ],
        help_text=_("Leads' and admins' own replies never wait."),
    )

    def __init__(
        self,
        *args: Any,
        connector: type[Connector],
        stored: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connector = connector
        self.fields["poll_interval"].initial = connector.default_poll_interval
        stored = stored or {}
        for name, help_text in connector.settings_fields.items():
            kind = connector.settings_types.get(name, "str")
            field: forms.Field
            if kind == "list":
                field = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
                help_text = f"{help_text} " + str(_("One per line."))
            elif kind == "int":
                field = forms.IntegerField(required=False, min_value=0)
            elif kind == "bool":
                field = forms.BooleanField(required=False)
            else:
                field = forms.CharField(required=False, max_length=500)
            field.label = name.replace("_", " ").capitalize()
            field.help_text = help_text
            field.initial = connector.settings_defaults.get(name)
            self.fields[f"setting_{name}"] = field
        for name, help_text in connector.credential_fields.items():
            is_set = bool(stored.get(name))
            self.fields[f"secret_{name}"] = forms.CharField(
                required=False,
                label=name.replace("_", " ").capitalize(),
                help_text=f"{help_text} "
                + str(_("Stored — leave empty to keep.") if is_set else _("Not set.")),
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            )

    @staticmethod
    def initial_for(channel) -> dict[str, Any]:
        connector = channel.connector_class
        initial = {
            "name": channel.name,
            "poll_interval": channel.poll_interval,
            "enabled": channel.enabled,
            "default_team": channel.default_team_id,
            "own_account_id": channel.own_account_id,
            "approval": (channel.settings or {}).get("approval", ""),
        }
        for name in connector.settings_fields:
            value = (channel.settings or {}).get(name, connector.settings_defaults.get(name))
            if connector.settings_types.get(name) == "list" and isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            initial[f"setting_{name}"] = value
        return initial

    def settings_value(self, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """The channel's settings: declared fields from the form, anything else kept."""
        value = dict(previous or {})
        if self.cleaned_data.get("approval"):
            value["approval"] = self.cleaned_data["approval"]
        else:
            value.pop("approval", None)
        for name in self.connector.settings_fields:
            raw = self.cleaned_data.get(f"setting_{name}")
            kind = self.connector.settings_types.get(name, "str")
            if kind == "list":
                value[name] = [line.strip() for line in (raw or "").splitlines() if line.strip()]
            elif raw in (None, "") and kind != "bool":
                value.pop(name, None)
            else:
                value[name] = raw
        return value

    def credentials_value(self, previous: dict[str, Any] | None = None) -> tuple[dict, bool]:
        """The new credentials and whether any changed (an empty input keeps the stored one)."""
        value = dict(previous or {})
        changed = False
        for name in self.connector.credential_fields:
            raw = self.cleaned_data.get(f"secret_{name}")
            if raw:
                changed = changed or value.get(name) != raw
                value[name] = raw
        return value, changed


def settings_json(settings: dict[str, Any]) -> str:
    return json.dumps(settings, indent=2, sort_keys=True)
