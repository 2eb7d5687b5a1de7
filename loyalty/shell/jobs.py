"""The background jobs, each defined once with its schedule.

The same list feeds Celery beat in production (`loyalty.shell.celery`: workers and beat on
Redis, any number of workers on any number of machines) and the broker-free runner of a
laptop (`manage.py run_jobs`, started by `make run`); each job is also a management command
to run once. The outbox stays the single source of truth: a job only reads what is due there
and records what it did, so withdrawing a cancelled sale's messages and LGPD erasure work
whichever runner delivers.

Delivery claims its rows with a lease, so any number of deliveries may run at once.
The others take a lock first (`exclusive`): two runs at the same time would only wait on
each other's row locks, and a long one must not pile up behind the next tick.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from loyalty.api.services import idempotency_keys_purge
from loyalty.engine.lifecycle import rewards_process_due
from loyalty.engine.simulation.runs import simulations_run_due
from loyalty.outbox.services import messages_send_due
from loyalty.outbox.webhooks.services import webhooks_send_due

LOCK_PREFIX = "loyalty:job-lock:"


@dataclass(frozen=True)
class Job:
    name: str  # also its management command and its Celery task name
    run: Callable[[], object]
    every_seconds: int
    exclusive: bool
    description: str


def _jobs() -> list[Job]:
    intervals = settings.JOB_INTERVALS
    return [
        Job(
            "send_messages",
            messages_send_due,
            intervals["send_messages"],
            False,
            "deliver the due customer messages",
        ),
        Job(
            "send_webhooks",
            webhooks_send_due,
            intervals["send_webhooks"],
            False,
            "deliver the due webhook events, signed",
        ),
        Job(
            "process_rewards",
            rewards_process_due,
            intervals["process_rewards"],
            True,
            "release pending rewards, expire what is past its end, queue the expiry reminders",
        ),
        Job(
            "run_simulations",
            simulations_run_due,
            intervals["run_simulations"],
            False,
            "run the queued what-if simulations of the rules (each claims its own), purge old ones",
        ),
        Job(
            "purge_idempotency_keys",
            idempotency_keys_purge,
            intervals["purge_idempotency_keys"],
            True,
            "delete Idempotency-Key answers past their keeping time",
        ),
    ]


def jobs() -> dict[str, Job]:
    return {job.name: job for job in _jobs()}


def job_run(*, name: str) -> object | None:
    """Runs the job once; an exclusive one is skipped (None) while another run holds its lock.

    The lock is the shared cache (Redis in production, so across machines), taken with an
    atomic add and held at most the job's interval times ten, so a killed run cannot hold it
    for ever.
    """
    job = jobs()[name]
    if not job.exclusive:
        return job.run()
    key = f"{LOCK_PREFIX}{name}"
    if not cache.add(key, "running", timeout=job.every_seconds * 10):
        return None
    try:
        return job.run()
    finally:
        cache.delete(key)
