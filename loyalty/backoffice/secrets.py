"""The one-time page that shows a store token or API secret right after it was generated.

The form or action that generates a secret answers with a redirect to this page (POST, then
redirect, then GET), so that reloading the page never posts again — which would create a
second store or regenerate the secret once more. The values wait in the staff user's
session only until that page shows them, once; a reload then says they were already shown.
"""

from dataclasses import dataclass

from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from loyalty.tenancy.services import IssuedSecret

_ATTRIBUTE = "_loyalty_issued_secrets"
SESSION_KEY = "loyalty_issued_secrets"


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


def reveal_redirect(request, model_admin, issued: list[IssuedSecret], title: str) -> HttpResponseRedirect:
    """Keep the values for the page that shows them once, and send the browser there."""
    request.session[SESSION_KEY] = {
        "title": str(title),
        "secrets": [
            {"object": str(secret.object), "label": secret.label, "value": secret.value} for secret in issued
        ],
    }
    return HttpResponseRedirect(reverse(f"admin:{_url_name(model_admin)}"))


def reveal_view(request, model_admin) -> TemplateResponse:
    """Shows the waiting values and forgets them; the page is never cached."""
    waiting = request.session.pop(SESSION_KEY, None)
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": waiting["title"] if waiting else gettext("These values were already shown"),
        "issued": [ShownSecret(**secret) for secret in waiting["secrets"]] if waiting else [],
        "opts": opts,
        "changelist_url": f"admin:{opts.app_label}_{opts.model_name}_changelist",
    }
    response = TemplateResponse(request, "admin/reveal_secrets.html", context)
    response["Cache-Control"] = "no-store"
    return response
