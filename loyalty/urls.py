"""Root URLconf: the admin (merchant back office), the API and a landing page."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("loyalty.shell.api_urls")),
]

handler400 = "loyalty.api.errors.handler400"
handler403 = "loyalty.api.errors.handler403"
handler404 = "loyalty.api.errors.handler404"
handler500 = "loyalty.api.errors.handler500"
