"""Instagram professional accounts: comments, mentions and DMs (Instagram API with Instagram
Login, graph.instagram.com, through facebook-sdk). See docs/channels/instagram.md."""

from . import connector, tasks  # noqa: F401  (register the kind and the Celery tasks)
