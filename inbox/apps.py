from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Intent, routing, priority and SLA are set at ingest; see inbox/engines/signals.py.
        from inbox.engines import engine_config
        from inbox.engines.signals import on_tickets_ingesting
        from inbox.ingest.services import tickets_ingesting

        tickets_ingesting.connect(on_tickets_ingesting, dispatch_uid="inbox.engines")
        # Ingest keeps the engines' rules, calendars and targets in memory until they change.
        engine_config.connect()
        # Who may do what is read from the cache until roles change (inbox/core/auth.py); ``bulk``
        # registers the ``any_of`` lookup on id columns (inbox.ingest.bulk.AnyOf).
        from inbox.core import auth  # noqa: F401

        auth.connect()
