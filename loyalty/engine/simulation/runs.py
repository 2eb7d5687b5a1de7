"""Simulations as runs: asked for (`simulation_start`), run inline or by the background job
(`simulations_run_due`), their progress and answer kept (`Simulation`), then purged.

An account runs at most `SIMULATION_MAX_RUNNING` simulations at once: the slot is taken
under a lock of the account's row, so twenty requests at the same instant cannot all take
one; the others queue and the job runs them as slots free up. A range of more than
`SIMULATION_INLINE_MAX_SALES` sales always queues, so that a request never holds a web
worker for long. A run reports its progress after each batch of sales, in a write of its
own; one whose reports stop for `SIMULATION_STALE_SECONDS` was lost with its process and is
queued again.
"""

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from loyalty.engine.simulation.drafts import DraftRefused, RulesNotFound, simulation_draft, simulation_window
from loyalty.engine.simulation.models import Simulation
from loyalty.engine.simulation.reading import replayed_sales_count
from loyalty.engine.simulation.services import rules_simulate
from loyalty.tenancy.models import Account

logger = logging.getLogger("loyalty.simulations")


def _stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.SIMULATION_STALE_SECONDS)


def _running(account_id: int) -> int:
    return Simulation.objects.filter(
        account_id=account_id, status=Simulation.Status.RUNNING, heartbeat_at__gte=_stale_before()
    ).count()


def _account_locked(account_id: int) -> None:
    # The account's row serialises the count of its running simulations and the claim of a slot.
    list(Account.objects.select_for_update().filter(pk=account_id).values_list("pk"))


def simulation_start(*, account: Account, spec: Mapping[str, Any], requested_by: str = "") -> Simulation:
    """Record the simulation asked for: running at once (the caller runs it, `simulation_run`)
    when it is small and the account has a slot free, else queued for the background job."""
    with transaction.atomic():
        _account_locked(account.pk)
        window = simulation_window(spec)
        sales = replayed_sales_count(
            account_id=account.pk,
            zone=account.tzinfo,
            date_from=window.date_from,
            date_to=window.date_to,
            store_ids=window.store_ids,
        )
        inline = sales <= settings.SIMULATION_INLINE_MAX_SALES and _running(account.pk) < (
            settings.SIMULATION_MAX_RUNNING
        )
        now = timezone.now()
        return Simulation.objects.create(
            account=account,
            spec=dict(spec),
            sales_total=sales,
            requested_by=requested_by[:150],
            status=Simulation.Status.RUNNING if inline else Simulation.Status.QUEUED,
            started_at=now if inline else None,
            heartbeat_at=now if inline else None,
        )


def simulation_ask(*, account: Account, spec: Mapping[str, Any], requested_by: str = "") -> Simulation:
    """A simulation asked for (by the API or the admin): its draft validated against the
    account (`RulesNotFound`, `DraftRefused`), then run at once when it may
    (`simulation_start`) — done or failed — or left queued for the background job. A run that
    fails with an error leaves nothing behind: its asker never learns of it."""
    simulation_draft(account=account, spec=spec)
    simulation = simulation_start(account=account, spec=spec, requested_by=requested_by)
    if simulation.status != Simulation.Status.RUNNING:
        return simulation
    try:
        return simulation_run(simulation=simulation)
    except Exception:
        simulation_discard(simulation=simulation)
        raise


def simulation_run(*, simulation: Simulation) -> Simulation:
    """Run a simulation that holds a slot (`running`) to its end: done with its answer, or
    failed with why (a draft no longer valid against the account, or an error)."""
    account = Account.objects.get(pk=simulation.account_id)

    # Each write is a transaction (or a savepoint) of its own: one that fails leaves whatever
    # transaction the run is in usable, to record the failure.
    def progress(done: int) -> None:
        with transaction.atomic():
            Simulation.objects.filter(pk=simulation.pk).update(sales_done=done, heartbeat_at=timezone.now())

    try:
        window, draft = simulation_draft(account=account, spec=simulation.spec)
        result = rules_simulate(account=account, window=window, draft=draft, progress=progress)
    except RulesNotFound as missing:
        return _failed(simulation, str(missing))
    except DraftRefused as refusal:
        return _failed(
            simulation,
            gettext("The draft's %(section)s %(index)s is no longer valid: %(reasons)s")
            % {
                "section": refusal.section,
                "index": refusal.index,
                "reasons": "; ".join(refusal.error.messages),
            },
        )
    except Exception:
        logger.exception("simulation %s failed", simulation.pk)
        _failed(simulation, gettext("The simulation failed; ask for it again."))
        raise
    now = timezone.now()
    with transaction.atomic():
        Simulation.objects.filter(pk=simulation.pk).update(
            status=Simulation.Status.DONE,
            result=result,
            sales_done=result["sales"],
            sales_total=result["sales"],
            finished_at=now,
            heartbeat_at=now,
        )
    simulation.refresh_from_db()
    return simulation


def simulation_discard(*, simulation: Simulation) -> None:
    """Forget a simulation whose asker got no answer naming it (its inline run failed with the
    database): best effort, as the database may still be failing."""
    try:
        with transaction.atomic():
            Simulation.objects.filter(pk=simulation.pk).delete()
    except DatabaseError:
        logger.warning("simulation %s could not be discarded", simulation.pk)


def _failed(simulation: Simulation, error: str) -> Simulation:
    """Record why it failed (best effort: the failure may be the database's)."""
    simulation.status, simulation.error, simulation.finished_at = (
        Simulation.Status.FAILED,
        error,
        timezone.now(),
    )
    try:
        with transaction.atomic():
            simulation.save(update_fields=["status", "error", "finished_at"])
    except DatabaseError:
        logger.warning("simulation %s: its failure could not be recorded", simulation.pk)
    return simulation


def simulation_claim() -> Simulation | None:
    """The oldest queued simulation whose account has a slot free, now running; or None."""
    # A run lost with its process (no heartbeat for a while) goes back to the queue.
    Simulation.objects.filter(status=Simulation.Status.RUNNING, heartbeat_at__lt=_stale_before()).update(
        status=Simulation.Status.QUEUED
    )
    full: set[int] = set()
    for pk, account_id in (
        Simulation.objects.filter(status=Simulation.Status.QUEUED)
        .order_by("created_at", "id")
        .values_list("pk", "account_id")[:200]
    ):
        if account_id in full:
            continue
        with transaction.atomic():
            _account_locked(account_id)
            if _running(account_id) >= settings.SIMULATION_MAX_RUNNING:
                full.add(account_id)
                continue
            now = timezone.now()
            claimed = Simulation.objects.filter(pk=pk, status=Simulation.Status.QUEUED).update(
                status=Simulation.Status.RUNNING, started_at=now, heartbeat_at=now
            )
            if claimed:
                return Simulation.objects.get(pk=pk)
    return None


def simulations_purge() -> int:
    """Delete the simulations that ended more than `SIMULATION_KEEP_DAYS` ago."""
    before = timezone.now() - timedelta(days=settings.SIMULATION_KEEP_DAYS)
    deleted, _ = Simulation.objects.filter(
        status__in=[Simulation.Status.DONE, Simulation.Status.FAILED], finished_at__lt=before
    ).delete()
    return deleted


def simulations_run_due(*, seconds: float | None = None) -> dict[str, int]:
    """The background job: run queued simulations one after another while slots allow, for
    at most `seconds` (default `SIMULATION_JOB_SECONDS`) of starting new ones, then purge
    the old ones. Several workers may run it at once: each claims its own."""
    budget = settings.SIMULATION_JOB_SECONDS if seconds is None else seconds
    deadline = timezone.now() + timedelta(seconds=budget)
    ran = failed = 0
    while timezone.now() < deadline:
        simulation = simulation_claim()
        if simulation is None:
            break
        try:
            outcome = simulation_run(simulation=simulation)
        except Exception:  # noqa: BLE001 - recorded as failed (and logged); the job goes on with the next one
            failed += 1
            continue
        if outcome.status == Simulation.Status.DONE:
            ran += 1
        else:
            failed += 1
    return {"ran": ran, "failed": failed, "purged": simulations_purge()}
