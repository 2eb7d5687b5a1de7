"""Root URLconf: the admin (merchant back office), the API and a landing page."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    # The language switch of the admin header (Django's set_language view).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("loyalty.shell.api_urls")),
]

handler400 = "loyalty.api.errors.handler400"
handler403 = "loyalty.api.errors.handler403"
handler404 = "loyalty.api.errors.handler404"
handler500 = "loyalty.api.errors.handler500"
