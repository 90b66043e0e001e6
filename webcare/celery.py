"""The Celery app. Configuration lives in settings (``CELERY_*``); see docs/celery.md for why."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")

app = Celery("webcare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs) -> None:
    # kombu's filesystem transport does not create its folders; web, worker and beat share them.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
