"""Moderating comments on a Meta platform: the Facebook Page and Instagram connectors hide a
comment with the same Graph call, under a different field name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..base import PermanentError


def visibility_set(
    post: Callable[..., Any], comment_id: str, hidden: bool, *, field: str, platform: str
) -> None:
    """Hide or unhide a comment: ``POST /{comment-id}`` with ``field`` (Facebook's
    ``is_hidden``, Instagram's ``hide``) true or false."""
    result = post(comment_id, **{field: "true" if hidden else "false"})
    if isinstance(result, dict) and result.get("success") is False:
        raise PermanentError(f"{platform} did not change the comment's visibility.")
