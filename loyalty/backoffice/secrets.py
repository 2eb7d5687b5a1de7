"""The one-time page that shows a store token or API secret right after it was generated.

The form or action that generates a secret answers with a redirect to this page (POST, then
redirect, then GET), so that reloading the page never posts again — which would create a
second store or regenerate the secret once more. The values wait in the staff user's
session under a random key named in the redirect, for `WAITING` at most, until that page
shows them once; a reload then says they were already shown. Two tabs regenerating at once
each get their own page.
"""

import time
from dataclasses import dataclass

from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext

from loyalty.tenancy.services import IssuedSecret

_ATTRIBUTE = "_loyalty_issued_secrets"
SESSION_KEY = "loyalty_issued_secrets"
#: How long generated values wait for their page, in seconds: the redirect follows at once.
WAITING = 300


@dataclass(frozen=True)
class ShownSecret:
    object: str
    label: str
    value: str


def remember_issued(request, issued: list[IssuedSecret]) -> None:
    setattr(request, _ATTRIBUTE, [*getattr(request, _ATTRIBUTE, []), *issued])


def issued_in(request) -> list[IssuedSecret]:
    return getattr(request, _ATTRIBUTE, [])


def _url_name(model_admin) -> str:
    opts = model_admin.model._meta
    return f"{opts.app_label}_{opts.model_name}_reveal"


def reveal_url_name(model_admin) -> str:
    return _url_name(model_admin)


def _still_waiting(session) -> dict:
    now = time.time()
    return {key: entry for key, entry in session.get(SESSION_KEY, {}).items() if now - entry["at"] < WAITING}


def reveal_redirect(request, model_admin, issued: list[IssuedSecret], title: str) -> HttpResponseRedirect:
    """Keep the values for the page that shows them once, and send the browser there."""
    key = get_random_string(24)
    waiting = _still_waiting(request.session)
    waiting[key] = {
        "at": time.time(),
        "model": model_admin.model._meta.label,
        "title": str(title),
        # What the page says of how the values are kept, when not the default (a hash).
        "note": str(getattr(model_admin, "reveal_note", "")),
        "secrets": [
            {"object": str(secret.object), "label": secret.label, "value": secret.value} for secret in issued
        ],
    }
    request.session[SESSION_KEY] = waiting
    return HttpResponseRedirect(f"{reverse(f'admin:{_url_name(model_admin)}')}?shown={key}")


def reveal_view(request, model_admin) -> TemplateResponse:
    """Shows the waiting values and forgets them (and any left waiting too long); the page is
    never cached."""
    waiting = _still_waiting(request.session)
    opts = model_admin.model._meta
    entry = waiting.pop(request.GET.get("shown", ""), None)
    if entry is not None and entry["model"] != opts.label:
        entry = None
    if waiting:
        request.session[SESSION_KEY] = waiting
    else:
        request.session.pop(SESSION_KEY, None)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": entry["title"] if entry else gettext("These values were already shown"),
        "issued": [ShownSecret(**secret) for secret in entry["secrets"]] if entry else [],
        "note": entry.get("note", "") if entry else "",
        "opts": opts,
        "changelist_url": f"admin:{opts.app_label}_{opts.model_name}_changelist",
    }
    response = TemplateResponse(request, "admin/reveal_secrets.html", context)
    response["Cache-Control"] = "no-store"
    return response
