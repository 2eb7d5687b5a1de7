"""The operations the benchmark drives, as requests built from the seeded account.

`seed_bench --json` describes the account it loaded: credentials, a spread of customer
documents, products (half of them promoted) and active voucher codes. Each operation
turns a request number into one request; writes are new each time (a new purchase, a
new sale, a new redemption), reads rotate through the samples.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bench.loadgen import Request, RequestMaker

POS = "/api/v1/accounts/integrations"
V2 = "/api/v2"
ACCOUNT_ZONE = ZoneInfo("America/Sao_Paulo")
CENT = Decimal("0.01")
QUOTE_ITEMS = 20
PURCHASE_ITEMS = 10
SALE_ITEMS = 10
REDEEMED_VALUE = Decimal("0.50")

# Offered rates of the latency runs (requests per second): reads 100, writes 50.
READ_RATE = 100
WRITE_RATE = 50
OPERATION_LABELS = {
    "health": "GET /api/health (the floor: one SELECT 1)",
    "quote": "POS discount quote, 20 items",
    "purchase": "POS purchase, 10 items",
    "sale": "v2 sale, 10 items",
    "wallet": "POS wallet lookup",
    "voucher": "v2 voucher validate",
    "redeem": "POS balance redeem",
    "customers": "v2 customers list (page of 50)",
}
WRITES = frozenset({"purchase", "sale", "redeem"})
# The targets of the spec (docs/performance.md, Speed and scale). Saturation: the least
# throughput as a share of the floor's, measured beside it.
SATURATION_TARGETS = {
    "purchase": 0.15,
    "sale": 0.20,
    "quote": 0.30,
    "redeem": 0.25,
    "wallet": 0.50,
    "voucher": 0.50,
    "customers": 0.30,
}
# p99 under these milliseconds at this offered rate (req/s), each operation's own rate.
P99_TARGETS = {
    "purchase": (40, 50),
    "sale": (40, 50),
    "quote": (20, 100),
    "redeem": (25, 50),
    "wallet": (10, 100),
    "voucher": (10, 100),
    "customers": (25, 100),
}
# At 100,000 customers, p50 within this factor of the same at 1,000 customers.
GROWTH_TARGET = 1.2
GROWTH_OPERATIONS = ("wallet", "quote", "customers")


@dataclass(frozen=True)
class Operation:
    """One row of the results: what it is, whether it writes, and its requests."""

    key: str
    label: str
    writes: bool
    make_request: RequestMaker

    @property
    def rate(self) -> int:
        """The offered rate of its latency run."""
        return WRITE_RATE if self.writes else READ_RATE


def _json(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


class BenchClient:
    """Requests of every operation for one seeded account, authenticated with `token`."""

    def __init__(self, account: dict, token: str, *, run_tag: str) -> None:
        self.documents = account["documents"]
        self.promoted = [product for product in account["products"] if product["promotion_id"]]
        self.plain = [product for product in account["products"] if not product["promotion_id"]]
        self.voucher_codes = account["voucher_codes"]
        self.run_tag = run_tag
        self.v2_headers = (("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"))
        self.pos_headers = (*self.v2_headers, ("X-Store-Token", account["store_token"]))

    def document(self, index: int) -> str:
        return self.documents[index * 7919 % len(self.documents)]

    def basket(self, index: int, size: int) -> list[tuple[dict, int]]:
        """`size` distinct products, half of them promoted, with a quantity of 1 to 3 each."""
        half = size // 2
        chosen = [self.promoted[(index + step) % len(self.promoted)] for step in range(half)]
        chosen += [self.plain[(index * 3 + step) % len(self.plain)] for step in range(size - half)]
        return [(product, 1 + (index + position) % 3) for position, product in enumerate(chosen)]

    def local_now(self) -> str:
        return datetime.now(ACCOUNT_ZONE).strftime("%Y-%m-%d %H:%M:%S")

    def health(self, index: int) -> Request:
        return Request("GET", "/api/health")

    def wallet(self, index: int) -> Request:
        return Request(
            "GET", f"{POS}/consumers/document/{self.document(index)}/wallet", headers=self.pos_headers
        )

    def quote(self, index: int) -> Request:
        items = [
            {
                "barcode": product["barcode"],
                "unit_value": float(product["price"]),
                "quantity": quantity,
                "discount": 0,
                "total": _money(Decimal(product["price"]) * quantity),
            }
            for product, quantity in self.basket(index, QUOTE_ITEMS)
        ]
        body = {
            "consumer": self.document(index),
            "date": self.local_now(),
            "pdv": "1",
            "coupon": str(index),
            "reference": str(index),
            "type": "DAV",
            "items": items,
        }
        return Request("POST", f"{POS}/shops/discounts", _json(body), self.pos_headers)

    def purchase(self, index: int) -> Request:
        items = []
        for product, quantity in self.basket(index, PURCHASE_ITEMS):
            price = Decimal(product["price"])
            discount = Decimal(0)
            if product["promotion_id"]:
                discount = (price * Decimal(product["percent_off"]) / 100 * quantity).quantize(
                    CENT, rounding=ROUND_HALF_UP
                )
            items.append(
                {
                    "unit": product["unit"],
                    "name": product["name"],
                    "category": product["category"],
                    "subcategory": product["subcategory"],
                    "barcode": product["barcode"],
                    "unit_value": float(price),
                    "quantity": quantity,
                    "discount": float(discount),
                    "total": _money(price * quantity - discount),
                    "promotion_id": product["promotion_id"],
                }
            )
        total = sum(Decimal(str(item["total"])) for item in items)
        body = {
            "consumer": self.document(index),
            "date": self.local_now(),
            "reference": f"{self.run_tag}-P{index}",
            "type": "CF",
            "pdv": "1",
            "coupon": f"{self.run_tag}-{index}",
            "operator": "Bench",
            "payments": [{"method": 3, "total": float(total), "splits": 0, "digital_change": 0}],
            "items": items,
        }
        return Request("PUT", f"{POS}/shops", _json(body), self.pos_headers)

    def sale(self, index: int) -> Request:
        items = [
            {
                "barcode": product["barcode"],
                "name": product["name"],
                "category": product["category"],
                "quantity": quantity,
                "unit_value": float(product["price"]),
                "total": _money(Decimal(product["price"]) * quantity),
            }
            for product, quantity in self.basket(index + 1, SALE_ITEMS)
        ]
        total = sum(Decimal(str(item["total"])) for item in items)
        body = {
            "cpf": self.document(index + 1),
            "sale_amount": float(total),
            "reference": f"{self.run_tag}-S{index}",
            "items": items,
            "payments": [{"method": 2, "total": float(total)}],
        }
        return Request("POST", f"{V2}/sales", _json(body), self.v2_headers)

    def voucher_validate(self, index: int) -> Request:
        code = self.voucher_codes[index % len(self.voucher_codes)]
        return Request("POST", f"{V2}/vouchers/{code}/validate", headers=self.v2_headers)

    def balance_redeem(self, index: int) -> Request:
        body = {
            "date": self.local_now(),
            "value": float(REDEEMED_VALUE),
            "digital_change": 0,
            "reference": f"{self.run_tag}-R{index}",
            "type": "NF",
        }
        return Request(
            "POST",
            f"{POS}/consumers/{self.document(index + 2)}/balance/redeem",
            _json(body),
            self.pos_headers,
        )

    def customers_list(self, index: int) -> Request:
        return Request("GET", f"{V2}/customers", headers=self.v2_headers)

    def operations(self) -> list[Operation]:
        """Every operation of the results table, the floor first."""
        requests = {
            "health": self.health,
            "quote": self.quote,
            "purchase": self.purchase,
            "sale": self.sale,
            "wallet": self.wallet,
            "voucher": self.voucher_validate,
            "redeem": self.balance_redeem,
            "customers": self.customers_list,
        }
        return [
            Operation(key, label, key in WRITES, requests[key]) for key, label in OPERATION_LABELS.items()
        ]


def token_request(account: dict) -> Request:
    body = {"api_key": account["api_key"], "api_secret": account["api_secret"]}
    return Request("POST", f"{V2}/auth/token", _json(body), (("Content-Type", "application/json"),))
