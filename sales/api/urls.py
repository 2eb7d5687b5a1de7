"""Routes of the sales app in each API dialect."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from sales.api.pos import CancelPurchaseView, PurchaseView, ReturnPurchaseView
from sales.api.v2 import SaleViewSet

router = SimpleRouter(trailing_slash=False)
router.register("sales", SaleViewSet, basename="sale")

v2_urlpatterns = router.urls

pos_urlpatterns = [
    path("shops", PurchaseView.as_view(), name="purchase"),
    path("shops/cancel", CancelPurchaseView.as_view(), name="purchase-cancel"),
    path("shops/returns", ReturnPurchaseView.as_view(), name="purchase-return"),
]
