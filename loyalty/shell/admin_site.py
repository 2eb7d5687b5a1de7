"""The merchants' admin site: its index page is the program's dashboard, and it serves the
liability report (`/admin/liability/`, a tile on the dashboard links to it).

It lives outside the `loyalty.admin` package: Django imports it while it sets up
`admin.site`, before any `ModelAdmin` may register on that site.
"""

import csv
import zoneinfo

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from loyalty.backoffice.scoping import user_account_ids
from loyalty.core.ids import parse_id
from loyalty.shell.dashboard import dashboard_figures
from loyalty.shell.liability import liability_csv_filename, liability_csv_rows, liability_report
from loyalty.tenancy.models import Account, Store

#: Wallet figures, summed: whoever may not see wallets sees no liability either.
LIABILITY_PERMISSION = "customers.view_wallet"

CHART_HEIGHT = 120
BAR_WIDTH = 14
BAR_GAP = 4


def sales_chart(days) -> dict:
    """Bar geometry of sales per day, drawn as inline SVG: the chart needs no script or CDN."""
    top = max((day.amount for day in days), default=0) or 1
    bars = []
    for index, day in enumerate(days):
        height = int(CHART_HEIGHT * day.amount / top) if day.amount else 0
        bars.append(
            {
                "x": index * (BAR_WIDTH + BAR_GAP),
                "y": CHART_HEIGHT - height,
                "height": height,
                "day": day,
            }
        )
    return {
        "bars": bars,
        "width": len(days) * (BAR_WIDTH + BAR_GAP),
        "height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
    }


class _Echo:
    """A file-like object whose `write` hands back the line, for `csv.writer` to stream."""

    def write(self, value: str) -> str:
        return value


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
    site_header = "Loyalty program"
    site_title = "Loyalty admin"
    index_title = "Dashboard"
    index_template = "admin/loyalty_index.html"

    def index(self, request, extra_context=None):
        account_ids = user_account_ids(request)
        accounts = user_accounts(request)
        zone = (
            accounts[0].tzinfo
            if account_ids and accounts
            else zoneinfo.ZoneInfo(settings.DEFAULT_ACCOUNT_TIME_ZONE)
        )
        now = timezone.now()
        figures = dashboard_figures(account_ids=account_ids, now=now, zone=zone)
        # The liability is one account's (its time zone, its catalogue's R$ per point): the
        # first of the user's, with a link to the report where they can choose another.
        account = chosen_account(request, accounts) if sees_liability(request) else None
        context = {
            "figures": figures,
            "chart": sales_chart(figures.days),
            "liability": liability_report(account=account, now=now) if account else None,
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
            writer = csv.writer(_Echo())
            response = StreamingHttpResponse(
                (writer.writerow(row) for row in liability_csv_rows(report)),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="{liability_csv_filename(report)}"'
            return response
        query = {"account": account.pk, **({"store": store.pk} if store else {})}
        context = {
            **self.each_context(request),
            "title": f"Liability — {account.name}",
            "report": report,
            "account": account,
            "accounts": accounts,
            "stores": stores,
            "store": store,
            "csv_query": "&".join(f"{name}={value}" for name, value in {**query, "format": "csv"}.items()),
        }
        return TemplateResponse(request, "admin/liability.html", context)
