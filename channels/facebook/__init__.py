"""Facebook Page comments and Messenger (facebook-sdk 3.1.0). See docs/channels/facebook.md."""

from . import connector, tasks  # noqa: F401  (register the kinds and the Celery tasks)
