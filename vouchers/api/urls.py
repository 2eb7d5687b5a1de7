"""Routes of the vouchers app in each API dialect."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from vouchers.api.categories import CategoryViewSet
from vouchers.api.pos import BalanceRedeemView
from vouchers.api.v2 import CouponViewSet, VoucherViewSet

router = SimpleRouter(trailing_slash=False)
router.register("categories", CategoryViewSet, basename="category")
router.register("coupons", CouponViewSet, basename="coupon")
router.register("vouchers", VoucherViewSet, basename="voucher")

v2_urlpatterns = router.urls

pos_urlpatterns = [
    path("consumers/<path:document>/balance/redeem", BalanceRedeemView.as_view(), name="balance-redeem"),
]
