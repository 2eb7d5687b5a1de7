"""The merchants' admin site: its index page is the program's dashboard, and it serves the
liability report (`/admin/liability/`, a tile on the dashboard links to it).

It lives outside the `loyalty.admin` package: Django imports it while it sets up
`admin.site`, before any `ModelAdmin` may register on that site.
"""

from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from loyalty.backoffice.exports import streamed_csv_response
from loyalty.backoffice.numbers import money
from loyalty.backoffice.scoping import scope_queryset, user_account_ids
from loyalty.core.ids import parse_id
from loyalty.shell.charts import ChartDay, sales_chart
from loyalty.shell.dashboard import DEFAULT_PERIOD_DAYS, MAX_PERIOD_DAYS, Period, dashboard_figures
from loyalty.shell.liability import liability_csv_filename, liability_csv_rows, liability_report
from loyalty.tenancy.models import Account, Store

#: Wallet figures, summed: whoever may not see wallets sees no liability either.
LIABILITY_PERMISSION = "customers.view_wallet"


class DashboardFilter(forms.Form):
    """The dashboard's period (the last 7, 30 or 90 days, or chosen dates) and store."""

    days = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        initial=DEFAULT_PERIOD_DAYS,
        choices=[
            (7, _("Last 7 days")),
            (30, _("Last 30 days")),
            (90, _("Last 90 days")),
            ("", _("Chosen dates")),
        ],
    )
    # Typed as staff write dates (30/11/2026 in pt-BR); ISO (2026-11-30) is always accepted too.
    date_from = forms.DateField(
        label=_("from"), required=False, localize=True, widget=forms.DateInput(attrs={"size": 10})
    )
    date_to = forms.DateField(
        label=_("to"), required=False, localize=True, widget=forms.DateInput(attrs={"size": 10})
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False, empty_label=_("All stores")
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if data.get("days") or (first is None and last is None):
            return data
        if first is None or last is None:
            raise forms.ValidationError(gettext("Choose both dates, or one of the periods."))
        if first > last:
            raise forms.ValidationError(gettext("The first date is after the last one."))
        if (last - first).days + 1 > MAX_PERIOD_DAYS:
            raise forms.ValidationError(gettext("Choose at most %(days)s days.") % {"days": MAX_PERIOD_DAYS})
        return data

    def period(self, today: date) -> Period:
        """The chosen period; the last 30 days when nothing (or nothing valid) was chosen."""
        if not self.is_valid():
            return Period.ending(today, DEFAULT_PERIOD_DAYS)
        data = self.cleaned_data
        if data.get("days"):
            return Period.ending(today, data["days"])
        if data.get("date_from"):
            return Period(first=data["date_from"], last=data["date_to"])
        return Period.ending(today, DEFAULT_PERIOD_DAYS)

    def store_id(self) -> int | None:
        store = self.cleaned_data.get("store") if self.is_valid() else None
        return store.pk if store else None


def user_accounts(request: HttpRequest) -> list[Account]:
    """The user's accounts (every one for a superuser), oldest first."""
    account_ids = user_account_ids(request)
    accounts = Account.objects.order_by("id")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    return list(accounts)


def sees_liability(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(LIABILITY_PERMISSION))


def chosen_account(request: HttpRequest, accounts: list[Account]) -> Account | None:
    """The account named by `?account=` among `accounts`, or the first of them."""
    wanted = parse_id(request.GET.get("account") or "")
    return next((account for account in accounts if account.pk == wanted), accounts[0] if accounts else None)


class LoyaltyAdminSite(admin.AdminSite):
    site_header = _("Loyalty program")
    site_title = _("Loyalty admin")
    index_title = _("Dashboard")
    index_template = "admin/loyalty_index.html"

    def index(self, request, extra_context=None):
        account_ids = user_account_ids(request)
        accounts = user_accounts(request)
        # The account's zone, made current for admin pages (loyalty.backoffice.timezones).
        zone = timezone.get_current_timezone()
        now = timezone.now()
        stores = scope_queryset(
            Store.objects.select_related("account").order_by("account_id", "name"), request
        )
        choice = DashboardFilter(request.GET or None, stores=stores)
        period = choice.period(timezone.localdate(now, zone))
        store_id = choice.store_id()
        dashboard = dashboard_figures(account_ids=account_ids, period=period, zone=zone, store_id=store_id)
        # The liability is one account's (its time zone, its catalogue's R$ per point): the chosen
        # store's account, else the first of the user's, with a link to the report where they
        # can choose another.
        chosen_store = choice.cleaned_data.get("store") if choice.is_valid() else None
        account = None
        if sees_liability(request):
            account = chosen_store.account if chosen_store else chosen_account(request, accounts)
        context = {
            "filter": choice,
            "chosen_store": chosen_store,
            "period": period,
            "figures": dashboard.figures,
            "previous": dashboard.previous,
            "compared": dashboard.compared(),
            "chart": sales_chart(
                [ChartDay(day=day.day, count=day.count, amount=day.amount) for day in dashboard.figures.days],
                money_label=money,
                sales_label=lambda count: (
                    ngettext("%(count)s sale", "%(count)s sales", count) % {"count": count}
                ),
            ),
            "liability": (liability_report(account=account, now=now, store_id=store_id) if account else None),
            "liability_accounts": len(accounts),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)

    def get_urls(self):
        return [
            path("liability/", self.admin_view(self.liability_view), name="liability"),
            *super().get_urls(),
        ]

    def liability_view(self, request):
        """The liability report of one of the user's accounts, as tables or as a CSV file
        (`?format=csv`), for all stores or one (`?store=`)."""
        accounts = user_accounts(request) if sees_liability(request) else []
        account = chosen_account(request, accounts)
        if account is None:
            raise PermissionDenied
        stores = list(Store.objects.filter(account=account).order_by("name", "id"))
        wanted = parse_id(request.GET.get("store") or "")
        store = next((store for store in stores if store.pk == wanted), None)
        report = liability_report(account=account, store_id=store.pk if store else None)
        if request.GET.get("format") == "csv":
            header, *rows = liability_csv_rows(report)
            return streamed_csv_response(filename=liability_csv_filename(report), header=header, rows=rows)
        query = {"account": account.pk, **({"store": store.pk} if store else {})}
        context = {
            **self.each_context(request),
            "title": gettext("Liability — %(account)s") % {"account": account.name},
            "report": report,
            "account": account,
            "accounts": accounts,
            "stores": stores,
            "store": store,
            "csv_query": "&".join(f"{name}={value}" for name, value in {**query, "format": "csv"}.items()),
        }
        return TemplateResponse(request, "admin/liability.html", context)
