"""The background jobs: each defined once, each a management command too, the exclusive ones
never twice at once, and `run_jobs` — what `make run` starts — running them with no broker."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command, get_commands

from customers.services import customer_create
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create, messages_queue_event
from loyalty.shell import jobs as job_registry
from loyalty.shell.jobs import LOCK_PREFIX, job_run, jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(merchant):
    maria = customer_create(account=merchant.account, name="Maria", phone="11987654321")
    message_template_create(
        account=merchant.account, name="SMS", event="balance_redeemed", channel="sms", body="Olá {name}"
    )
    messages_queue_event(
        account=merchant.account, customer=maria, event="balance_redeemed", context={}, wallet_after={}
    )
    return Message.objects.get()


def test_every_job_is_also_a_management_command():
    commands = get_commands()

    assert set(jobs()) == {
        "send_messages",
        "send_webhooks",
        "process_rewards",
        "run_simulations",
        "purge_idempotency_keys",
    }
    assert all(name in commands for name in jobs())
    assert all(job.every_seconds > 0 for job in jobs().values())


def test_run_jobs_once_runs_every_job_with_no_broker(queued):
    out = StringIO()

    call_command("run_jobs", "--once", stdout=out)

    queued.refresh_from_db()
    assert queued.status == Message.Status.SENT
    assert [line.split(":")[0] for line in out.getvalue().splitlines()[1:]] == list(jobs())


def test_an_exclusive_job_is_skipped_while_another_run_holds_its_lock(monkeypatch):
    runs = []
    monkeypatch.setattr(job_registry, "rewards_process_due", lambda: runs.append("ran") or "done")
    assert jobs()["process_rewards"].exclusive

    cache.add(f"{LOCK_PREFIX}process_rewards", "running")
    skipped = job_run(name="process_rewards")
    cache.delete(f"{LOCK_PREFIX}process_rewards")
    ran = job_run(name="process_rewards")

    assert (skipped, ran, runs) == (None, "done", ["ran"])
    assert cache.get(f"{LOCK_PREFIX}process_rewards") is None  # released after the run


def test_a_failing_job_releases_its_lock(monkeypatch):
    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(job_registry, "idempotency_keys_purge", broken)

    with pytest.raises(RuntimeError):
        job_run(name="purge_idempotency_keys")

    assert cache.get(f"{LOCK_PREFIX}purge_idempotency_keys") is None
