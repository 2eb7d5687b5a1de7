"""The merchants' admin site: its index page is the program's dashboard.

It lives outside the `loyalty.admin` package: Django imports it while it sets up
`admin.site`, before any `ModelAdmin` may register on that site.
"""

import zoneinfo

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from loyalty.backoffice.scoping import user_account_ids
from loyalty.shell.dashboard import dashboard_figures

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


class LoyaltyAdminSite(admin.AdminSite):
    site_header = "Loyalty program"
    site_title = "Loyalty admin"
    index_title = "Dashboard"
    index_template = "admin/loyalty_index.html"

    def index(self, request, extra_context=None):
        account_ids = user_account_ids(request)
        zone = (
            request.user.memberships.select_related("account").first().account.tzinfo
            if account_ids
            else zoneinfo.ZoneInfo(settings.DEFAULT_ACCOUNT_TIME_ZONE)
        )
        figures = dashboard_figures(account_ids=account_ids, now=timezone.now(), zone=zone)
        context = {"figures": figures, "chart": sales_chart(figures.days), **(extra_context or {})}
        return super().index(request, extra_context=context)
