"""Everyone's own settings: first name and signature (with a signed reply as preview), language,
time zone and, for those who work tickets, whether they are available for new ones.

Open to every logged-in user; each only ever changes their own profile. The page speaks the
profile's language and shows times in its zone, like the inbox.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.core import access
from inbox.core.middleware import activate_for
from inbox.engines.assignment import agent_set_available
from inbox.models import AgentProfile
from inbox.people.profile import profile_language_set, profile_update, time_zone_choices
from inbox.replies.services import reply_text
from webcare.http import AuthedRequest
from webcare.redirects import safe_target

SAMPLE_REPLY = gettext_lazy("Thanks for waiting! Your parcel is on its way.")


class ProfileForm(forms.Form):
    first_name = forms.CharField(
        label=gettext_lazy("First name"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("Canned replies fill {agent_first_name} with it."),
    )
    signature = forms.CharField(
        label=gettext_lazy("Signature"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Added on its own line under every reply you send, e.g. ^Anna."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))
    arrival_sound = forms.BooleanField(
        label=gettext_lazy("Play a sound for new tickets"),
        required=False,
        help_text=gettext_lazy(
            "A short chime when new tickets arrive in the list you have open. Off by default."
        ),
    )
    available = forms.BooleanField(
        label=gettext_lazy("Available for new tickets"),
        required=False,
        help_text=gettext_lazy("Away: automatic assignment gives you no new tickets."),
    )

    def __init__(self, *args, works: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = (self.initial or {}).get("time_zone", "")
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = time_zone_choices(current)
        if not works:
            del self.fields["available"]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    user = request.user
    mine, _created = AgentProfile.objects.get_or_create(user=user)
    works = access.can_work(user)
    initial = {
        "first_name": user.first_name,
        "signature": mine.signature,
        "language": mine.language,
        "time_zone": mine.time_zone,
        "arrival_sound": mine.arrival_sound,
        "available": mine.available,
    }
    form = ProfileForm(request.POST or None, initial=initial, works=works)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mine = profile_update(
                user=user,
                first_name=data["first_name"],
                signature=data["signature"],
                language=data["language"],
                time_zone=data["time_zone"],
                arrival_sound=data["arrival_sound"],
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            if works and data["available"] != mine.available:
                agent_set_available(user=user, available=data["available"], actor=user)
            activate_for(mine)
            messages.success(request, _("Your settings are saved."))
            response = redirect("pages:profile")
            # Pages outside the inbox follow the language cookie (LocaleMiddleware).
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                mine.language,
                samesite="Lax",
                secure=request.is_secure(),
            )
            return response
    activate_for(mine)
    signature = form["signature"].value() or ""
    return render(
        request,
        "inbox/people/profile.html",
        {"form": form, "sample": reply_text(text=str(SAMPLE_REPLY), signature=signature)},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def profile_preview(request: AuthedRequest) -> HttpResponse:
    """A sample reply signed with the signature being typed: the live preview."""
    signature = request.GET.get("signature", "")[:200]
    return render(
        request,
        "inbox/people/profile.html#sample",
        {"sample": reply_text(text=str(SAMPLE_REPLY), signature=signature)},
    )


@login_required
@require_POST
def language(request: AuthedRequest) -> HttpResponse:
    """The language switch in the top bar: saved on the profile, back to the same page."""
    try:
        mine = profile_language_set(user=request.user, language=request.POST.get("language", ""))
    except ValidationError:
        return redirect(safe_target(request, request.POST.get("next"), fallback="inbox:index"))
    activate_for(mine)
    response = redirect(safe_target(request, request.POST.get("next"), fallback="inbox:index"))
    # Pages outside the inbox follow the language cookie (LocaleMiddleware).
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, mine.language, samesite="Lax", secure=request.is_secure()
    )
    return response


urlpatterns = [
    path("", profile, name="profile"),
    path("language/", language, name="profile_language"),
    path("preview/", profile_preview, name="profile_preview"),
]
