"""Any sequence of sends, resends, conflicting sends and cancels from several tills.

A model keeps what each till was answered; the API must agree with it at every step: a new
identity is recorded (201), the same one with the same content is answered as recorded
(200), with other content refused (409); a cancel finds exactly the purchase its keys name
(404 when none, 409 when a bare reference names several); a send under an `Idempotency-Key`
the store used before is answered byte for byte as then, or refused (422) if it differs. At the end every purchase answered
201 is recorded exactly once, every wallet holds exactly its consumer's recorded purchases,
and `check_wallets` is clean.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from customers.models import Wallet
from loyalty.engine.program import rule_create
from loyalty.tenancy.services import access_token_issue, store_create
from sales.models import Sale
from tests.builders import POS
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

CONSUMERS = ("53933515009", "52998224725")
DAY = "2024-05-24"


@dataclass
class Recorded:
    id: int
    store: int
    consumer: str
    quantity: int
    reference: str
    cancelled: bool = False


@dataclass(frozen=True)
class Send:
    store: int
    pdv: str
    coupon: str
    reference: str
    fiscal: bool
    consumer: str
    quantity: int

    def body(self) -> dict:
        return {
            "consumer": self.consumer,
            "date": f"{DAY} 10:00",
            "type": "CF",
            "reference": self.reference,
            "pdv": self.pdv if self.fiscal else None,
            "coupon": self.coupon if self.fiscal else None,
            "payments": [{"method": 1, "total": 10 * self.quantity}],
            "items": [
                {"barcode": "7", "unit_value": 10, "quantity": self.quantity, "total": 10 * self.quantity}
            ],
        }

    @property
    def identity(self) -> tuple:
        if self.fiscal:
            return (self.store, "receipt", self.pdv, self.coupon)
        return (self.store, "reference", self.reference)


sends = st.builds(
    Send,
    store=st.sampled_from([0, 1]),
    pdv=st.sampled_from(["1", "2"]),
    coupon=st.sampled_from(["1", "2"]),
    reference=st.sampled_from(["10", "11"]),
    fiscal=st.booleans(),
    consumer=st.sampled_from(CONSUMERS),
    quantity=st.integers(min_value=1, max_value=3),
)


@dataclass
class Model:
    by_identity: dict[tuple, tuple[Send, Recorded]] = field(default_factory=dict)

    def named(self, store: int, fiscal: bool, pdv: str, coupon: str, reference: str) -> list[Recorded]:
        if fiscal:
            found = self.by_identity.get((store, "receipt", pdv, coupon))
            return [found[1]] if found else []
        return sorted(
            (
                recorded
                for _, recorded in self.by_identity.values()
                if recorded.store == store and recorded.reference == reference
            ),
            key=lambda recorded: recorded.id,
        )


class Tills(RuleBasedStateMachine):
    sent = Bundle("sent")

    @initialize()
    def open_the_stores(self):
        merchant = MerchantFactory(name="Mercado Sequência")
        rule_create(account=merchant.account, name="1 point per real", kind="points", value=Decimal("1"))
        token = access_token_issue(credential=merchant.credential).access_token
        _, second_store_token = store_create(account=merchant.account, name="Loja 2")
        self.account = merchant.account
        self.clients = []
        for store_token in (merchant.store_token, second_store_token):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_STORE_TOKEN=store_token)
            self.clients.append(client)
        self.model = Model()
        self.created = 0
        self.keyed: dict[tuple, tuple] = {}

    def _send(self, send: Send, **headers) -> Send:
        response = self.clients[send.store].put(f"{POS}/shops", send.body(), format="json", **headers)
        self.last_response = response
        known = self.model.by_identity.get(send.identity)
        if known is None:
            assert response.status_code == 201, response.content
            body = response.json()["purchase"]
            self.model.by_identity[send.identity] = (
                send,
                Recorded(body["id"], send.store, send.consumer, send.quantity, send.reference),
            )
            self.created += 1
            return send
        first, recorded = known
        same = (first.consumer, first.quantity) == (send.consumer, send.quantity)
        if same:
            assert response.status_code == 200, response.content
            body = response.json()
            assert body["purchase"]["id"] == recorded.id
            assert body["purchase"]["status"] == ("cancelled" if recorded.cancelled else "recorded")
            assert bool(body["warnings"]) == recorded.cancelled
        else:
            assert response.status_code == 409, response.content
            assert response.json()["code"] == "purchase_conflict"
            assert response.json()["purchase"]["id"] == recorded.id
            assert not any(document.encode() in response.content for document in CONSUMERS)
        return send

    @rule(target=sent, send=sends)
    def send(self, send):
        return self._send(send)

    @rule(send=sent)
    def resend(self, send):
        self._send(send)

    @rule(send=sent, quantity=st.integers(min_value=1, max_value=3), consumer=st.sampled_from(CONSUMERS))
    def send_other_content_under_taken_keys(self, send, quantity, consumer):
        self._send(Send(send.store, send.pdv, send.coupon, send.reference, send.fiscal, consumer, quantity))

    @rule(send=sends, key=st.sampled_from(["k1", "k2"]))
    def send_with_an_idempotency_key(self, send, key):
        headers = {"HTTP_IDEMPOTENCY_KEY": key}
        first = self.keyed.get((send.store, key))
        if first is None:
            self._send(send, **headers)
            self.keyed[(send.store, key)] = (send, self.last_response.status_code, self.last_response.content)
            return
        sent, status, content = first
        response = self.clients[send.store].put(f"{POS}/shops", send.body(), format="json", **headers)
        if send.body() == sent.body():
            assert (response.status_code, response.content) == (status, content)
            assert response["Idempotent-Replayed"] == "true"
        else:
            assert response.status_code == 422, response.content
            assert response.json()["code"] == "idempotency_key_reused"

    @rule(
        store=st.sampled_from([0, 1]),
        fiscal=st.booleans(),
        pdv=st.sampled_from(["1", "2"]),
        coupon=st.sampled_from(["1", "2"]),
        reference=st.sampled_from(["10", "11"]),
    )
    def cancel(self, store, fiscal, pdv, coupon, reference):
        keys = {"pdv": pdv, "coupon": coupon} if fiscal else {"reference": reference}
        response = self.clients[store].post(
            f"{POS}/shops/cancel", {"date": DAY, "type": "CF", **keys}, format="json"
        )
        named = self.model.named(store, fiscal, pdv, coupon, reference)
        if not named:
            assert response.status_code == 404, response.content
        elif len(named) > 1:
            assert response.status_code == 409, response.content
            assert response.json()["code"] == "ambiguous_reference"
            assert [row["id"] for row in response.json()["purchases"]] == [recorded.id for recorded in named]
        else:
            assert response.status_code == 200, response.content
            assert response.json()["already_cancelled"] is named[0].cancelled
            named[0].cancelled = True

    @invariant()
    def every_created_purchase_is_recorded_once(self):
        sales = Sale.objects.filter(account=self.account)
        assert sales.count() == self.created
        recorded = {recorded.id: recorded for _, recorded in self.model.by_identity.values()}
        assert set(sales.values_list("id", flat=True)) == set(recorded)
        assert {
            sale_id for sale_id, status in sales.values_list("id", "status") if status == "cancelled"
        } == {sale_id for sale_id, row in recorded.items() if row.cancelled}

    def teardown(self):
        if not hasattr(self, "account"):
            return
        for document in CONSUMERS:
            standing = [
                recorded
                for _, recorded in self.model.by_identity.values()
                if recorded.consumer == document and not recorded.cancelled
            ]
            wallet = Wallet.objects.filter(
                customer__account=self.account, customer__document=document
            ).first()
            spent = Decimal(10 * sum(recorded.quantity for recorded in standing))
            if wallet is None:
                assert not standing
                continue
            assert (wallet.total_shoppings, wallet.count_shoppings, wallet.points) == (
                spent,
                len(standing),
                spent,
            )
        call_command("check_wallets", stdout=StringIO())  # exits non-zero on any mismatch


def test_any_sequence_of_sends_resends_conflicts_and_cancels_keeps_every_sale_once():
    run_state_machine_as_test(
        Tills,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
