"""The *Simulate* button of a reward rule in the admin.

The rule's form posts what it holds — a rule being changed, or a new one not yet saved — to
`simulate/`; the rule is validated as saving it would validate it, then replayed over the
account's recorded sales of the period and stores chosen, beside the rules in force, by the
same service as `POST /api/v2/rules/simulate` (nothing is saved). The page answers with the
comparison as tables and a chart of the cost per day; a long period runs on the background
job, with a progress bar, and its answer is shown when it is done.
"""

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.backoffice import numbers
from loyalty.backoffice.scoping import scope_queryset
from loyalty.engine.models import RewardRule
from loyalty.engine.simulation.drafts import DraftRefused, simulation_spec
from loyalty.engine.simulation.models import Simulation
from loyalty.engine.simulation.runs import simulation_ask
from loyalty.engine.simulation.services import MAX_RANGE_DAYS, Window
from loyalty.shell.charts import ComparedDay, comparison_chart
from loyalty.tenancy.models import Account, Store

PERIOD_PREFIX = "sim-"


class PeriodForm(forms.Form):
    """The sales a simulation replays: local days and stores."""

    date_from = forms.DateField(label=_("From"), localize=True)
    date_to = forms.DateField(label=_("To"), localize=True)
    stores = forms.ModelMultipleChoiceField(
        queryset=Store.objects.none(),
        required=False,
        label=_("Stores"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every store."),
    )

    def __init__(self, *args: Any, stores: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix=PERIOD_PREFIX.rstrip("-"), **kwargs)
        self.fields["stores"].queryset = stores

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                self.add_error("date_to", gettext("The end is before the start."))
            elif (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
                self.add_error(
                    "date_from",
                    gettext("A simulation covers at most %(days)s days.") % {"days": MAX_RANGE_DAYS},
                )
        return cleaned


def _amount(value: float | int) -> Decimal:
    return Decimal(str(value))


#: The rows of a comparison: the answer's key, its label, and how its figures are written.
FIGURES = (
    ("cashback", _("Cashback (R$)"), numbers.money),
    ("points", _("Points"), numbers.points),
    ("points_value", _("Points in R$"), numbers.money),
    ("vouchers", _("Vouchers issued"), str),
    ("vouchers_value", _("Vouchers' value (R$)"), numbers.money),
    ("cost", _("Total cost (R$)"), numbers.money),
    ("customers", _("Customers who earned"), str),
)


def _figures(compared: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for key, label, written in FIGURES:
        current, draft = compared["current"][key], compared["draft"][key]
        difference = compared["difference"][key]
        sign = "+" if difference > 0 else ""
        rows.append(
            {
                "key": key,
                "label": str(label),
                "current": written(_amount(current)) if written is not str else str(current),
                "draft": written(_amount(draft)) if written is not str else str(draft),
                "difference": sign
                + (written(_amount(difference)) if written is not str else str(difference)),
            }
        )
    return rows


def _breakdown(rows: list[dict[str, Any]], name_key: str, fallback: str) -> list[dict[str, str]]:
    return [
        {
            "name": row[name_key] or fallback,
            "current": numbers.money(_amount(row["current"]["cost"])),
            "draft": numbers.money(_amount(row["draft"]["cost"])),
            "difference": numbers.money(_amount(row["difference"]["cost"])),
            "customers": f"{row['current']['customers']} → {row['draft']['customers']}",
        }
        for row in rows
    ]


def answer_context(result: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a simulation's answer, written for a person in the active
    language (R$ 1.234,56 in pt-BR)."""
    days = [
        ComparedDay(
            day=date.fromisoformat(row["date"]),
            current=_amount(row["current"]["cost"]),
            draft=_amount(row["draft"]["cost"]),
        )
        for row in result["by_day"]
    ]
    liability = result["liability_added"]
    valuation = result["points_valued_at"]
    return {
        "result": result,
        "date_from": date.fromisoformat(result["date_from"]),
        "date_to": date.fromisoformat(result["date_to"]),
        "figures": _figures(result),
        "liability": {
            "cashback": numbers.money(_amount(liability["cashback"])),
            "points": numbers.points(_amount(liability["points"])),
            "points_value": numbers.money(_amount(liability["points_value"])),
            "vouchers_value": numbers.money(_amount(liability["vouchers_value"])),
            "total": numbers.money(_amount(liability["total"])),
        },
        "rate": numbers.money(_amount(valuation["value_per_point"])) if valuation["reward_id"] else "",
        "rate_reward": valuation["reward_name"],
        "by_store": _breakdown(result["by_store"], "store_name", gettext("No store")),
        "by_category": _breakdown(result["by_category"], "category_name", gettext("No category")),
        "chart": comparison_chart(days, money_label=numbers.money),
    }


class RuleSimulationAdminMixin:
    """Adds `simulate/` (and the progress of a background run) to the rules' admin."""

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path("simulate/", view(self.simulate_view), name="{}_{}_simulate".format(*info)),
            path(
                "simulations/<int:pk>/progress/",
                view(self.simulation_progress_view),
                name="{}_{}_simulation_progress".format(*info),
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _simulations(self, request: HttpRequest) -> Any:
        return scope_queryset(Simulation.objects.all(), request)

    def simulation_progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        simulation = self._simulations(request).filter(pk=pk).first()
        if simulation is None:
            raise Http404
        return JsonResponse(
            {"status": simulation.status, "progress": simulation.progress, "error": simulation.error}
        )

    def simulate_view(self, request: HttpRequest) -> HttpResponse:
        rule = None
        if request.GET.get("rule"):
            rule = self.get_object(request, request.GET["rule"])  # type: ignore[attr-defined]
            if rule is None:
                raise Http404
        if not self.has_view_permission(request, rule):  # type: ignore[attr-defined]
            raise PermissionDenied
        if request.method != "POST":
            return self._shown(request, rule)
        form_class = self.get_form(request, rule, change=rule is not None)  # type: ignore[attr-defined]
        # The form validates a copy: the rule itself is never touched, let alone saved.
        form = form_class(request.POST, request.FILES, instance=copy.copy(rule) if rule else None)
        rule_valid = form.is_valid()
        account = rule.account if rule else (form.cleaned_data.get("account") if rule_valid else None)
        stores = scope_queryset(Store.objects.all(), request)
        if account is not None:
            stores = stores.filter(account=account)
        # From the rule's form, the default period; from this page, the one chosen.
        chosen = _has_period(request)
        period = PeriodForm(request.POST if chosen else None, stores=stores, initial=_default_period(account))
        context = {"form": form, "period": period, "rule": rule, "reposted": _reposted(request)}
        if not rule_valid or (chosen and not period.is_valid()):
            return self._page(request, context)
        window = period.cleaned_data if chosen else {**_default_period(account), "stores": []}
        simulation, problem = self._started(request, rule, account, form.cleaned_data, window)
        if problem:
            context["problem"] = problem
            return self._page(request, context)
        return self._page(request, {**context, **self._simulation_context(simulation)})

    def _shown(self, request: HttpRequest, rule: RewardRule | None) -> HttpResponse:
        """A simulation asked for earlier (`?simulation=`): its answer, or its progress."""
        simulation = self._simulations(request).filter(pk=request.GET.get("simulation") or 0).first()
        if simulation is None:
            raise Http404
        return self._page(request, {"rule": rule, **self._simulation_context(simulation)})

    def _started(
        self,
        request: HttpRequest,
        rule: RewardRule | None,
        account: Account,
        fields: dict[str, Any],
        period: dict[str, Any],
    ) -> tuple[Simulation | None, str]:
        # The rule's own columns from the form: its account and its scopes are given apart.
        own = {field.name for field in RewardRule._meta.concrete_fields} - {"id", "account"}
        drafted = {name: value for name, value in fields.items() if name in own}
        drafted["stores"] = list(fields.get("rule_stores") or ())
        drafted["categories"] = list(fields.get("rule_categories") or ())
        window = Window(
            date_from=period["date_from"],
            date_to=period["date_to"],
            store_ids=tuple(store.pk for store in period["stores"]),
        )
        spec = simulation_spec(
            window=window,
            add=[] if rule else [drafted],
            change=[{"id": rule.pk, **drafted}] if rule else [],
        )
        try:
            return simulation_ask(account=account, spec=spec, requested_by=request.user.get_username()), ""
        except DraftRefused as refusal:
            return None, " ".join(refusal.error.messages)

    def _simulation_context(self, simulation: Simulation) -> dict[str, Any]:
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        context: dict[str, Any] = {
            "simulation": simulation,
            "progress_url": reverse("admin:{}_{}_simulation_progress".format(*info), args=[simulation.pk]),
            "answer_url": reverse("admin:{}_{}_simulate".format(*info)) + f"?simulation={simulation.pk}",
        }
        if simulation.status == Simulation.Status.DONE and simulation.result:
            context.update(answer_context(simulation.result))
        return context

    def _page(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        rule = context.get("rule")
        return render(
            request,
            "admin/loyalty/rewardrule/simulation.html",
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": self.opts,  # type: ignore[attr-defined]
                "title": gettext("Simulate %(rule)s") % {"rule": rule}
                if rule
                else gettext("Simulate a new rule"),
                "action_url": request.get_full_path(),
                **context,
            },
        )


def _has_period(request: HttpRequest) -> bool:
    return any(name.startswith(PERIOD_PREFIX) for name in request.POST)


def _default_period(account: Account | None) -> dict[str, Any]:
    window = Window.default(account) if account is not None else Window.ending(timezone.localdate())
    return {"date_from": window.date_from, "date_to": window.date_to}


def _reposted(request: HttpRequest) -> list[tuple[str, str]]:
    """The rule form's fields as posted, to post again with another period."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken" and not name.startswith(PERIOD_PREFIX) and not name.startswith("_")
        for value in values
    ]
