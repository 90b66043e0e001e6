"""Canned replies: list with search, create, edit and delete, with variables and a preview.

Leads and admins keep the saved answers agents insert from the composer (agents use them, and
get 403 here). Changes go through ``inbox.replies.canned``, which writes the audit row.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.core.decorators import lead_required
from inbox.models import CannedReply, Team
from inbox.replies.canned import (
    EXAMPLE_CUSTOMER,
    VARIABLES,
    canned_delete,
    canned_preview,
    canned_save,
)
from webcare.http import AuthedRequest

# The list shows this many at most; a search narrows it.
LIST_LIMIT = 200


class CannedForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120, required=False)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        required=False,
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Everyone"),
        help_text=gettext_lazy("Only this team's agents see it in the composer."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text in %(language)s") % {"language": name},
                widget=forms.Textarea(attrs={"rows": 4}),
                max_length=5000,
                required=False,
                help_text=_(
                    "Inserted for customers writing %(language)s; the text above for the others."
                )
                % {"language": name},
            )

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["translations"] = {
            code: data.pop(f"body_{code}", "") for code, _name in settings.LANGUAGES
        }
        return data


@require_GET
@lead_required
def canned_list(request: AuthedRequest) -> HttpResponse:
    """Canned replies by title, searched in title and text (one query, any number)."""
    query = request.GET.get("q", "").strip()[:100]
    replies = CannedReply.objects.select_related("team").order_by("title", "pk")
    if query:
        replies = replies.filter(Q(title__icontains=query) | Q(body__icontains=query))
    return render(
        request,
        "inbox/replies/canned/canned.html",
        {"replies": list(replies[:LIST_LIMIT]), "query": query, "limit": LIST_LIMIT},
    )


def _form_page(request: AuthedRequest, canned: CannedReply | None) -> HttpResponse:
    initial = None
    if canned:
        initial = {"title": canned.title, "body": canned.body, "team": canned.team_id}
        for code, _name in settings.LANGUAGES:
            initial[f"body_{code}"] = (canned.translations or {}).get(code, "")
    form = CannedForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            canned_save(actor=request.user, canned=canned, **form.values())
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Canned reply saved."))
            return redirect("pages:canned")
    return render(
        request,
        "inbox/replies/canned/canned_form.html",
        {
            "form": form,
            "canned": canned,
            "variables": VARIABLES,
            "example_customer": EXAMPLE_CUSTOMER,
            "sample": canned_preview(body=form["body"].value() or "", user=request.user),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def canned_new(request: AuthedRequest) -> HttpResponse:
    return _form_page(request, None)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def canned_edit(request: AuthedRequest, canned_id: int) -> HttpResponse:
    return _form_page(request, get_object_or_404(CannedReply, pk=canned_id))


@require_POST
@lead_required
def canned_remove(request: AuthedRequest, canned_id: int) -> HttpResponse:
    canned = get_object_or_404(CannedReply, pk=canned_id)
    canned_delete(actor=request.user, canned=canned)
    messages.success(request, _("Canned reply “%(title)s” deleted.") % {"title": canned.title})
    return redirect("pages:canned")


@require_GET
@lead_required
def canned_sample(request: AuthedRequest) -> HttpResponse:
    """The live preview: the text filled for the example customer and signed by the user."""
    sample = canned_preview(body=request.GET.get("body", "")[:5000], user=request.user)
    return render(
        request,
        "inbox/replies/canned/canned_form.html#sample",
        {"sample": sample, "example_customer": EXAMPLE_CUSTOMER},
    )


urlpatterns = [
    path("", canned_list, name="canned"),
    path("new/", canned_new, name="canned_new"),
    path("preview/", canned_sample, name="canned_preview"),
    path("<int:canned_id>/", canned_edit, name="canned_edit"),
    path("<int:canned_id>/delete/", canned_remove, name="canned_delete"),
]
