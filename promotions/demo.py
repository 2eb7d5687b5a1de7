"""Demo products, categories and promotions for `seed_demo`.

They make the POS seed document's examples work against `make run` data: the product it
registers, the barcode 1234 its promotion names, the "Arroz" promotion of its list, and
the 999999 promotion of its discount quote (dated 2024-06-19, hence the early start).
"""

from datetime import datetime
from decimal import Decimal

from promotions.models import Product, Promotion
from promotions.services import PromotionTerms, product_upsert, promotion_create

DEMO_PRODUCTS = (
    {
        "barcode": "13456789",
        "unit": "un",
        "name": "Batata Pringles Cheddar Bacon 105g",
        "category": "Biscoitos e chocolates",
        "subcategory": "Salgadinho",
        "price": Decimal("12.99"),
    },
    {
        "barcode": "123456789",
        "unit": "un",
        "name": "Arroz",
        "category": "Arroz",
        "subcategory": "Arroz",
        "price": Decimal("24.90"),
    },
    {
        "barcode": "999999",
        "unit": "un",
        "name": "Azeite de Oliva Extra Virgem 500ml",
        "category": "Mercearia",
        "subcategory": "Óleos e azeites",
        "price": Decimal("36.59"),
    },
    {
        "barcode": "1234",
        "unit": "un",
        "name": "Café Torrado e Moído 500g",
        "category": "Mercearia",
        "subcategory": "Café",
        "price": Decimal("18.90"),
    },
)
DEMO_PROMOTIONS = (
    {
        "barcode": "123456789",
        "percent_off": Decimal(10),
        "limit": 1,
        "quantity_limit": 2,
        "minimum_quantity": 1,
    },
    {"barcode": "999999", "percent_off": Decimal(10), "limit": 0, "quantity_limit": 2, "minimum_quantity": 0},
)
DEMO_PROMOTIONS_START = datetime(2024, 1, 1)


def seed(*, account, store) -> None:
    for data in DEMO_PRODUCTS:
        if not Product.objects.filter(account=account, barcode=data["barcode"]).exists():
            product_upsert(account=account, **data)
    starts_at = DEMO_PROMOTIONS_START.replace(tzinfo=account.tzinfo)
    for data in DEMO_PROMOTIONS:
        terms = dict(data)
        product = Product.objects.get(account=account, barcode=terms.pop("barcode"))
        # Any promotion of the product, withdrawn ones included, means the demo already ran.
        if not Promotion.objects.filter(account=account, product=product).exists():
            promotion_create(
                account=account, terms=PromotionTerms(product=product, starts_at=starts_at, **terms)
            )
