"""Routes of the promotions app in each API dialect."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from promotions.api.pos import DiscountQuoteView, ProductViewSet, PromotionViewSet

pos_router = SimpleRouter(trailing_slash=False)
pos_router.register("products", ProductViewSet, basename="product")
pos_router.register("promotions", PromotionViewSet, basename="promotion")

v2_urlpatterns: list = []

pos_urlpatterns = [
    path("shops/discounts", DiscountQuoteView.as_view(), name="discount-quote"),
    *pos_router.urls,
]
