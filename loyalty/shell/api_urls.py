"""Routes under `/api/`: both dialects, the OpenAPI page and health.

Each app lists its own routes in `<app>/api/urls.py` (`v2_urlpatterns` for the
server-to-server dialect, `pos_urlpatterns` for the POS dialect), and so does the engine
(`loyalty/engine/api/urls.py`: the program's rules). Routes are written without a trailing
slash; `ApiRequestMiddleware` makes the slash optional.
"""

from django.urls import include, path, re_path
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from customers.api import urls as customers_urls
from loyalty.api.auth import AccessTokenView, PosAccessTokenView
from loyalty.api.errors import api_not_found
from loyalty.api.health import HealthView
from loyalty.api.pos import StoreView
from loyalty.api.v2 import AccountView
from loyalty.engine.api import urls as engine_urls
from loyalty.shell.api import CustomerPrivacyViewSet
from loyalty.shell.liability.api import LiabilityReportView
from loyalty.shell.webhooks import WebhookViewSet
from promotions.api import urls as promotions_urls
from sales.api import urls as sales_urls
from vouchers.api import urls as vouchers_urls


class EnglishSchemaView(SpectacularAPIView):
    """The OpenAPI document in English, the integrators' language, whatever the browser asks
    (`?lang=pt-br` gives the Portuguese texts); the API's error messages follow Accept-Language."""

    def dispatch(self, request, *args, **kwargs):
        # Only a language the product speaks: Django keeps one catalogue per code asked for.
        try:
            language = translation.get_supported_language_variant((request.GET.get("lang") or "en").lower())
        except LookupError:
            language = "en"
        request.GET = request.GET.copy()
        request.GET["lang"] = language
        with translation.override(language):
            return super().dispatch(request, *args, **kwargs)


APPS = (customers_urls, promotions_urls, sales_urls, vouchers_urls)

# The customers' LGPD actions compose every app (`loyalty.shell.privacy`).
privacy = SimpleRouter(trailing_slash=False)
privacy.register("customers", CustomerPrivacyViewSet, basename="customer-privacy")

# Webhooks join the outbox and the API's plumbing, two neighbours of the ground floor.
webhooks = SimpleRouter(trailing_slash=False)
webhooks.register("webhooks", WebhookViewSet, basename="webhook")

v2_urlpatterns = [
    path("auth/token", AccessTokenView.as_view(), name="auth-token"),
    path("account", AccountView.as_view(), name="account"),
    *(route for app in APPS for route in app.v2_urlpatterns),
    *privacy.urls,
    # The program (reward rules) names every app's objects: the engine's, a floor above them.
    *engine_urls.v2_urlpatterns,
    # The liability report reads every app (`loyalty.shell.liability`).
    path("reports/liability", LiabilityReportView.as_view(), name="reports-liability"),
    *webhooks.urls,
]

pos_urlpatterns = [
    path("auth/token", PosAccessTokenView.as_view(), name="auth-token"),
    path("store", StoreView.as_view(), name="store"),
    *(route for app in APPS for route in app.pos_urlpatterns),
]

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("schema", EnglishSchemaView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("v2/", include((v2_urlpatterns, "v2"))),
    path("v1/accounts/integrations/", include((pos_urlpatterns, "pos"))),
    # Any character, newlines included: a path can hold `%0A`, which `.` would not match,
    # and an unmatched path gets Django's HTML 404 under DEBUG. (An inline `(?s)` flag
    # would do too, but `reverse()` refuses patterns that hold one.)
    re_path(r"^[\s\S]*$", api_not_found),
]
