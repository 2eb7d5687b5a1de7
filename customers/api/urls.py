"""Routes of the customers app in each API dialect."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api.pos import ConsumerWalletView
from customers.api.v2 import CustomerViewSet

router = SimpleRouter(trailing_slash=False)
router.register("customers", CustomerViewSet, basename="customer")

v2_urlpatterns = router.urls

pos_urlpatterns = [
    path(
        "consumers/document/<path:document>/wallet",
        ConsumerWalletView.as_view(),
        name="consumer-wallet",
    ),
]
