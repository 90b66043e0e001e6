"""Each signed-in user's own time zone and language, on every page.

One place activates them, after authentication: the inbox, the leads' and admins' pages, the
channel pages and the dashboard all show times in the reader's zone and speak their language.
Anonymous requests (log-in page, webhooks) keep ``LocaleMiddleware``'s choice and the project's
zone. The user row comes with its profile in one query (``inbox.core.auth``), so this costs nothing
beyond what the view reads anyway.

Pages outside the profile follow the language cookie for anonymous requests, so the cookie is
handed the profile's language whenever they differ: no page speaks English to a Dutch user on a
new browser after they log out.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from webcare.http import AuthedRequest


def activate_for(profile) -> str:
    """Activate the profile's zone and language for this thread; returns the language."""
    try:
        timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()
    language = profile.language or settings.LANGUAGE_CODE
    translation.activate(language)
    return translation.get_language()


class UserPreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        profile = self._profile(request)
        if profile is None:
            return self.get_response(request)
        # A profile means a signed-in user: from here on this is an AuthedRequest.
        authed = cast(AuthedRequest, request)
        authed.profile = profile
        request.LANGUAGE_CODE = activate_for(profile)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        language = authed.profile.language or settings.LANGUAGE_CODE
        cookie = settings.LANGUAGE_COOKIE_NAME
        # A view that changed the language (the profile page) has set the cookie itself.
        if request.COOKIES.get(cookie) != language and cookie not in response.cookies:
            response.set_cookie(
                cookie,
                language,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    @staticmethod
    def _profile(request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        from inbox.models import AgentProfile

        try:
            return user.profile  # joined to the user (inbox.core.auth.get_user)
        except AgentProfile.DoesNotExist:
            profile, _ = AgentProfile.objects.get_or_create(user=user)
            return profile
