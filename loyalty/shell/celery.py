"""The Celery application of production: `celery -A loyalty.shell.celery worker --beat`.

Every job of `loyalty.shell.jobs` is a task of the same name, and beat schedules it at its
interval. The broker is Redis (`CELERY_BROKER_URL`, by default `REDIS_URL`). A task that
runs late or twice does no harm: delivery claims its rows, the other jobs hold a lock.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

app = Celery("loyalty")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_finalize.connect
def _register_jobs(sender, **kwargs) -> None:
    # Imported once Django is set up: the jobs read settings and the models.
    from loyalty.shell.jobs import job_run, jobs

    for job in jobs().values():

        def run(name=job.name):
            job_run(name=name)
            return name

        task = sender.task(name=f"loyalty.{job.name}", ignore_result=True)(run)
        sender.add_periodic_task(job.every_seconds, task.s(), name=job.name)
