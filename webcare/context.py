"""Template context every page needs for its navigation."""

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    from channels.views import can_configure

    user = getattr(request, "user", None)
    return {"can_configure": bool(user and can_configure(user))}
