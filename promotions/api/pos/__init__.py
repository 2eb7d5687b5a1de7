"""Products, promotions and the discount quote in the POS dialect (`/api/v1/accounts/integrations/`)."""

from promotions.api.pos.discounts import DiscountQuoteView
from promotions.api.pos.products import ProductViewSet
from promotions.api.pos.promotions import PromotionViewSet

__all__ = ["DiscountQuoteView", "ProductViewSet", "PromotionViewSet"]
