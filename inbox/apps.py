from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Intent, routing, priority and SLA are set at ingest, which calls them explicitly
        # (inbox/ingest/services.py, inbox/engines/at_ingest.py).
        from inbox.engines import engine_config

        # Ingest keeps the engines' rules, calendars and targets in memory until they change.
        engine_config.connect()
        # Who may do what is read from the cache until roles change (inbox/core/auth.py); ``bulk``
        # registers the ``any_of`` lookup on id columns (inbox.core.bulk.AnyOf).
        from inbox.core import auth  # noqa: F401

        auth.connect()
        # Register the inbox's Celery tasks in every process, web included: the areas queue them
        # by name (e.g. inbox.engines.assignment.ASSIGN_TASK), since inbox.tasks imports them.
        from inbox import tasks  # noqa: F401
