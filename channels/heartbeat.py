"""Worker and beat heartbeats for the health endpoint.

Beat sends ``channels.tasks.heartbeat`` every 30 seconds and django-celery-beat stamps the
schedule's ``last_run_at`` when it does (beat is alive); the worker that runs it stamps the
cache (a worker is alive). A data migration creates the schedule.
"""

BEAT_TASK_NAME = "heartbeat"
WORKER_KEY = "webcare:worker-heartbeat"
