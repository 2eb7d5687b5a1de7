"""`run_jobs`: every background job at its interval, in this one process, with no broker.

What `make run` starts beside the development server, so that a laptop delivers messages,
releases and expires rewards like production does (where Celery runs the same jobs:
`loyalty.shell.jobs`). `--once` runs each job once and stops.
"""

import logging
import signal
import time

from django.core.management.base import BaseCommand

from loyalty.shell.jobs import job_run, jobs

logger = logging.getLogger("loyalty.jobs")


class Command(BaseCommand):
    help = "Run the background jobs (message delivery, rewards processing, purges) at their intervals."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run each job once, then stop")

    def handle(self, *args, **options):
        registry = jobs()
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        next_run = dict.fromkeys(registry, 0.0)
        self.stdout.write(
            "Jobs: " + ", ".join(f"{name} every {job.every_seconds} s" for name, job in registry.items())
        )
        while not stopping:
            for name, job in registry.items():
                if stopping or time.monotonic() < next_run[name]:
                    continue
                try:
                    outcome = job_run(name=name)
                except Exception:  # a failing job is logged and tried again at its next tick
                    logger.exception("job %s failed", name)
                else:
                    if options["once"]:
                        self.stdout.write(f"{name}: {outcome}")
                next_run[name] = time.monotonic() + job.every_seconds
            if options["once"]:
                return
            time.sleep(0.5)
