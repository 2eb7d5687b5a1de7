"""The back office in the merchant's local time.

Django shows and reads every date and time of the admin in the *current* time zone. This
middleware makes that the time zone of the staff user's account for each admin request, so
that a sale rung at 17:30 in São Paulo reads 17:30 in lists and forms alike and a start time
typed in a form is local time. A user of several accounts sees the zone of the first one; a
superuser, who belongs to none, sees `BACKOFFICE_TIME_ZONE` (default America/Sao_Paulo).
"""

import zoneinfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format

from loyalty.backoffice.scoping import remember_account_ids
from loyalty.tenancy.models import Membership


def staff_time_zone(request) -> zoneinfo.ZoneInfo:
    """The zone a staff user reads and types times in. The same query tells which accounts
    the user may see, kept for the admin's scoping, so the page costs no extra query."""
    name = None
    if not request.user.is_superuser:
        memberships = list(
            Membership.objects.filter(user=request.user)
            .order_by("account_id")
            .values_list("account_id", "account__time_zone")
        )
        remember_account_ids(request, [account_id for account_id, _ in memberships])
        name = memberships[0][1] if memberships else None
    return zoneinfo.ZoneInfo(name or settings.BACKOFFICE_TIME_ZONE)


class AccountTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def __call__(self, request):
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        if not request.path_info.startswith(self._admin_prefix):
            return self.get_response(request)
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return self.get_response(request)
        timezone.activate(staff_time_zone(request))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def local_datetime(value) -> str:
    """A moment as staff read it: in the request's (the account's) zone, the language's short
    date and a 24-hour time (`30/11/2026 10:00` in pt-BR, `11/30/2026 10:00` in English)."""
    local = timezone.localtime(value)
    return f"{date_format(local, 'SHORT_DATE_FORMAT')} {time_format(local, 'H:i')}"
