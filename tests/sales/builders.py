"""POS purchase bodies and the calls that send them from a tenant's store."""

from tests.builders import POS

SEED_PURCHASE = {
    "consumer": "53933515009",
    "date": "2024-05-24 15:10",
    "reference": "11",
    "type": "CF",
    "pdv": "1",
    "coupon": "15",
    "operator": "Manu",
    "payments": [{"method": 1, "total": 24, "splits": 0, "digital_change": 0, "date": "2023-12-21 15:32:00"}],
    "items": [
        {
            "unit": "un",
            "name": "Batata Pringles Cheddar Bacon 105g",
            "category": "Biscoitos e chocolates",
            "subcategory": "Salgadinho",
            "barcode": "13456789",
            "unit_value": 12,
            "quantity": 2,
            "discount": 0,
            "total": 24,
        }
    ],
}


def item(barcode="13456789", unit_value=12, quantity=2, discount=0, **extra):
    total = extra.pop("total", round(unit_value * quantity - discount, 2))
    return {
        "unit": "un",
        "name": f"Item {barcode}",
        "barcode": barcode,
        "unit_value": unit_value,
        "quantity": quantity,
        "discount": discount,
        "total": total,
        **extra,
    }


def purchase(**overrides):
    return {**SEED_PURCHASE, **overrides}


def put(tenant, body):
    """`PUT /shops` ("Adicionar compra") from the tenant's store."""
    return tenant.pos.put(f"{POS}/shops", body, format="json")


def cancel(tenant, body):
    """`POST /shops/cancel` ("Cancelar compra") from the tenant's store."""
    return tenant.pos.post(f"{POS}/shops/cancel", body, format="json")
