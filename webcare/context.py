"""Template context every page needs for its navigation."""

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    from inbox.core.access import can_assign, can_configure

    user = getattr(request, "user", None)
    known = bool(user and user.is_authenticated)
    # Permissions are cached on the user for the request: the inbox's own checks already
    # loaded them, so the menu costs no query of its own.
    return {
        "can_configure": known and can_configure(user),
        "can_lead": known and can_assign(user),
    }
