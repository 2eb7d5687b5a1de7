"""The one-time page that shows a store token or API secret right after it was generated."""

from django.template.response import TemplateResponse

from loyalty.tenancy.services import IssuedSecret

_ATTRIBUTE = "_loyalty_issued_secrets"


def remember_issued(request, issued: list[IssuedSecret]) -> None:
    setattr(request, _ATTRIBUTE, [*getattr(request, _ATTRIBUTE, []), *issued])


def issued_in(request) -> list[IssuedSecret]:
    return getattr(request, _ATTRIBUTE, [])


def reveal_response(request, model_admin, issued: list[IssuedSecret], title: str) -> TemplateResponse:
    """Render the secrets once; the page is never cached and the values are not stored."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "issued": issued,
        "opts": model_admin.model._meta,
        "changelist_url": f"admin:{model_admin.model._meta.app_label}_{model_admin.model._meta.model_name}_changelist",
    }
    response = TemplateResponse(request, "admin/reveal_secrets.html", context)
    response["Cache-Control"] = "no-store"
    return response
