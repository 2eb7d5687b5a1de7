"""Routes of the engine in the server-to-server dialect (it has none in the POS dialect)."""

from rest_framework.routers import SimpleRouter

from loyalty.engine.api.rules import RuleViewSet

router = SimpleRouter(trailing_slash=False)
router.register("rules", RuleViewSet, basename="rule")

v2_urlpatterns = router.urls
