"""Redirects to a target the request names (``next``, the page itself): the one check.

Every view that sends the browser to a URL taken from the request goes through
:func:`safe_target`, so none can be made to send an agent to another site (a link that logs in
and lands on a look-alike log-in page). Django's ``url_has_allowed_host_and_scheme`` decides:
only this host, only http(s) (https when the request came over https), and it rejects the
forms browsers read as another host (``//evil``, ``///evil``, ``\\\\evil``, ``/\\evil``, leading
control characters, ``javascript:``). Anything else falls back to a fixed page of ours.

Django's own redirecting views (log-in, log-out, language switch) run the same check; the
subclasses and wrapper here route them through this module too, so there is one place to read.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.i18n import set_language as django_set_language


def is_safe(request: HttpRequest, target: str | None) -> bool:
    """Whether ``target`` stays on this site (and on https when the request is)."""
    return bool(target) and url_has_allowed_host_and_scheme(
        url=target,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    )


def safe_target(request: HttpRequest, target: str | None, *, fallback: str) -> str:
    """``target`` if it stays on this site, else ``fallback`` (a URL name or a path of ours).

    The target is used as checked, stripped of the whitespace the check ignores, so what the
    browser is sent is what was judged."""
    target = (target or "").strip()
    return target if is_safe(request, target) else resolve_url(fallback)


def redirect_to_next(
    request: HttpRequest, *, fallback: str, field: str = "next"
) -> HttpResponseRedirect:
    """A redirect to the request's ``next`` (POST, else GET) when it is safe, else ``fallback``."""
    target = request.POST.get(field) or request.GET.get(field)
    return HttpResponseRedirect(safe_target(request, target, fallback=fallback))


class SafeNextMixin:
    """Django's ``RedirectURLMixin`` with the check of this module."""

    request: HttpRequest
    redirect_field_name: str

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        # Django 5.2 calls it without ``request``; Django 6 (and its stubs) pass it.
        request = request or self.request
        raw = request.POST.get(self.redirect_field_name, request.GET.get(self.redirect_field_name))
        raw = (raw or "").strip()
        return raw if is_safe(request, raw) else ""


class LoginView(SafeNextMixin, auth_views.LoginView):
    pass


class LogoutView(SafeNextMixin, auth_views.LogoutView):
    pass


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (which goes back to ``next`` or the referring page), with its
    target checked here as well."""
    response = django_set_language(request)
    if isinstance(response, HttpResponseRedirect):
        response["Location"] = safe_target(request, response["Location"], fallback="/")
    return response
