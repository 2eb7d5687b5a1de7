"""The data `make fuzz` registers through the live API before Schemathesis runs.

Objects of every kind a path names (a webhook endpoint, customers, products, promotions, a
category, rewards, sales, vouchers, a balance redemption, reward rules), so that path parameters can
name real objects, and purchases whose keys the returns' examples name; a tiny JSON client
over urllib does the calls.
"""

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

POS = "/api/v1/accounts/integrations"
V2 = "/api/v2"
# Valid CPFs (check digits included): the consumers of the fuzzing merchant.
DOCUMENTS = ("53933515009", "52998224725", "11144477735")


def fail(message: str) -> None:
    raise SystemExit(f"fuzz: {message}")


# --- HTTP ------------------------------------------------------------------------------


class Api:
    """A tiny JSON client of the live application, for the seeding steps."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body=None, expect=(200, 201)) -> dict | list:
        request = urllib.request.Request(  # noqa: S310 - the URL is our own server on 127.0.0.1
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **self.headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        if status not in expect:
            fail(f"{method} {path} answered {status}: {content[:500]!r}")
        return json.loads(content) if content else {}

    def wait_until_healthy(self, server: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                fail(f"the server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base_url + "/api/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        fail(f"the server did not answer /api/health within {timeout:.0f} s")


def seed(api: Api, merchant: dict) -> dict[str, list]:
    """Objects of every kind a path names, registered through the API; their identifiers."""
    token = api.call(
        "POST", f"{V2}/auth/token", {"api_key": merchant["api_key"], "api_secret": merchant["api_secret"]}
    )
    api.headers = {
        "Authorization": f"Bearer {token['access_token']}",
        "X-Store-Token": merchant["store_token"],
    }

    # A webhook endpoint before the sales, so that they queue deliveries for its log. Its URL
    # is a public address literal: nothing is resolved, and nothing is posted during the run.
    webhook = api.call(
        "POST",
        f"{V2}/webhooks",
        {
            "url": "https://93.184.215.14/loyalty-fuzz",
            "events": [
                "sale.recorded",
                "sale.cancelled",
                "sale.returned",
                "voucher.issued",
                "balance.redeemed",
            ],
        },
    )["id"]
    customers = [
        api.call(
            "POST",
            f"{V2}/customers",
            {"name": f"Consumidor {index}", "cpf": document, "email": f"consumidor{index}@example.com"},
        )["id"]
        for index, document in enumerate(DOCUMENTS, start=1)
    ]
    category = api.call("POST", f"{V2}/categories", {"name": "Biscoitos e chocolates"})["id"]
    barcodes = ["13456789", "999999"]
    for barcode in barcodes:
        api.call(
            "POST",
            f"{POS}/products",
            {
                "unit": "un",
                "name": f"Produto {barcode}",
                "category": "Biscoitos e chocolates",
                "subcategory": "Salgadinho",
                "barcode": barcode,
                "price": 12.99,
                "active": True,
            },
        )
    promotions = [
        api.call(
            "POST",
            f"{POS}/promotions",
            {"barcode": barcode, "percent_off": 10, "limit": 0, "quantity_limit": 2, "minimum_quantity": 0},
        )["id"]
        for barcode in barcodes
    ]
    coupons = [
        api.call(
            "POST",
            f"{V2}/coupons",
            {"name": name, "points_cost": 10, "value": 20, "stock": 50, "category": category},
        )["id"]
        for name in ("Vale R$ 20", "Vale R$ 50")
    ]
    purchase = api.call(
        "PUT",
        f"{POS}/shops",
        {
            "consumer": DOCUMENTS[0],
            "date": "2024-05-24 15:10",
            "reference": "11",
            "type": "CF",
            "pdv": "1",
            "coupon": "15",
            "payments": [{"method": 1, "total": 24, "digital_change": 3}],
            "items": [{"unit": "un", "barcode": barcodes[0], "unit_value": 12, "quantity": 2, "total": 24}],
        },
    )
    # A second purchase of that till, for returns to give back units of (the operation's
    # examples name the first one by its keys; the ids dictionary names both).
    second = api.call(
        "PUT",
        f"{POS}/shops",
        {
            "consumer": DOCUMENTS[1],
            "date": "2024-05-24 16:00",
            "reference": "12",
            "type": "CF",
            "pdv": "1",
            "coupon": "16",
            "items": [
                {"unit": "un", "barcode": barcode, "unit_value": 12.99, "quantity": 3, "total": 38.97}
                for barcode in barcodes
            ],
        },
    )
    sales = [purchase["purchase"]["id"], second["purchase"]["id"]]
    for document in DOCUMENTS:
        sale = api.call(
            "POST", f"{V2}/sales", {"cpf": document, "sale_amount": 500, "reference": f"ERP-{document}"}
        )
        sales.append(sale["sale"]["id"])
    vouchers = [
        api.call("POST", f"{V2}/coupons/{coupons[0]}/redeem", {"cpf": document})["code"]
        for document in DOCUMENTS
    ]
    api.call(
        "POST",
        f"{POS}/consumers/{DOCUMENTS[0]}/balance/redeem",
        {"date": "2024-06-19 17:13", "value": 1, "digital_change": 1, "reference": "2", "type": "NF"},
    )
    # After the sales, so that they earn what they always did: the program's rules by API, one
    # naming every kind of object (the merchant's own cashback and points rules are there too).
    api.call(
        "POST",
        f"{V2}/rules",
        {
            "name": "Vale a partir de R$ 100",
            "kind": "voucher",
            "threshold": 100,
            "reward_id": coupons[1],
            "store_ids": [merchant["store_id"]],
            "category_ids": [category],
            "weekdays": [0, 1, 2, 3, 4],
            "valid_days": 30,
        },
    )
    rules = [rule["id"] for rule in api.call("GET", f"{V2}/rules")["results"]]
    return {
        # Path ids are documented as digit strings (the URL pattern), so the dictionary holds strings.
        "ids": [
            str(pk) for pk in sorted({*customers, *sales, *coupons, *promotions, *rules, category, webhook})
        ],
        "barcodes": barcodes,
        "documents": list(DOCUMENTS),
        "codes": vouchers,
    }
