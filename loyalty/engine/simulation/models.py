"""A simulation asked for: its draft, where it stands, and its answer, kept a while."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from loyalty.tenancy.models import Account


class Simulation(models.Model):
    """One what-if run of an account: queued, running (with the sales replayed so far), then
    done with its answer or failed with why. Kept `SIMULATION_KEEP_DAYS` after it ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    spec = models.JSONField(
        _("draft"), help_text=_("The range, stores and draft rules, as validated when it was asked for.")
    )
    sales_total = models.PositiveIntegerField(_("sales to replay"), default=0)
    sales_done = models.PositiveIntegerField(_("sales replayed"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.CharField(
        _("requested by"), max_length=150, blank=True, help_text=_("The staff user or the API key.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    #: Renewed with each batch: a run whose heartbeat stops was lost (its process died).
    heartbeat_at = models.DateTimeField(_("last heard of"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("simulation")
        verbose_name_plural = _("simulations")
        indexes = [
            models.Index(fields=["status", "created_at"], name="simulation_due"),
            models.Index(fields=["account", "status"], name="simulation_account_status"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @property
    def kept_until(self) -> datetime | None:
        """When it is deleted (`simulations_purge`); None until it ends."""
        if self.finished_at is None:
            return None
        return self.finished_at + timedelta(days=settings.SIMULATION_KEEP_DAYS)

    @property
    def progress(self) -> float:
        if self.status == self.Status.DONE:
            return 1.0
        return min(self.sales_done / self.sales_total, 1.0) if self.sales_total else 0.0
