"""Logging filters.

Django logs every ``PermissionDenied`` as a warning *with its traceback* (``django.request``):
a person opening a page their role does not allow fills the console with stack traces that look
like crashes. A 403 is an answer, not a fault: :class:`ForbiddenWithoutTraceback` keeps the one
line ("Forbidden (Permission denied): /path") and drops the traceback. Errors (5xx) keep theirs.
"""

from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
