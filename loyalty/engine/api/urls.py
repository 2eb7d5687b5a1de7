"""Routes of the engine in the server-to-server dialect (it has none in the POS dialect)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from loyalty.engine.api.rules import RuleViewSet
from loyalty.engine.api.simulations import SimulateView, SimulationView

router = SimpleRouter(trailing_slash=False)
router.register("rules", RuleViewSet, basename="rule")

v2_urlpatterns = [
    path("rules/simulate", SimulateView.as_view(), name="rules-simulate"),
    path("rules/simulations/<int:pk>", SimulationView.as_view(), name="rules-simulation"),
    *router.urls,
]
