from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    # Our app is called "channels" (the product's layout); this is not the Django Channels
    # package, which must never be installed beside it.
    name = "channels"
    verbose_name = "Channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the connector packages registers their kinds; importing the tasks registers
        # the send task in every process, web included: the inbox queues a send by the task's
        # name (inbox.replies.delivery.dispatch_send), without importing this app.
        from . import (
            connectors,  # noqa: F401
            tasks,  # noqa: F401
        )
