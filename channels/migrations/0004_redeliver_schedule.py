from django.db import migrations


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="redeliver stalled replies",
        defaults={
            "task": "channels.tasks.redeliver_stalled_replies",
            "interval": every,
            "enabled": True,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="redeliver stalled replies"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("channels", "0003_heartbeat_schedule")]

    operations = [migrations.RunPython(create, remove)]
