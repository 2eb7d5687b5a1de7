"""The outbox: marketing only with consent, delivery, retries with backoff, failure, and
concurrent senders."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from customers.services import consent_set, customer_create
from loyalty.engine.program import rule_create
from loyalty.outbox.models import Message, MessageAttempt, MessageTemplate
from loyalty.outbox.services import (
    message_retry,
    message_template_create,
    messages_queue_event,
    messages_send_due,
    render,
)
from tests.builders import POS
from tests.concurrency import run_concurrently
from tests.sales.builders import purchase

pytestmark = pytest.mark.django_db

SENT: list[int] = []


class RecordingBackend:
    def send(self, message):
        # A provider takes a moment; it keeps both senders busy at the same time.
        time.sleep(0.005)
        SENT.append(message.pk)


class FailingBackend:
    def send(self, message):
        raise ConnectionError("provider down")


@pytest.fixture
def maria(merchant):
    return customer_create(
        account=merchant.account, name="Maria", email="maria@example.com", phone="11987654321"
    )


def queue(merchant, customer, channel="email", count=1):
    for index in range(count):
        message_template_create(
            account=merchant.account,
            name=f"T{channel}{index}",
            event="balance_redeemed",
            channel=channel,
            subject="Resgate",
            body="Olá {name}, saldo R$ {balance}",
        )
    return messages_queue_event(
        account=merchant.account,
        customer=customer,
        event="balance_redeemed",
        context={},
        wallet_after={"balance": 12},
    )


def test_render_fills_known_placeholders_and_keeps_unknown_ones():
    assert render("{name} tem {points} {x} {{", {"name": "Ana", "points": "1,00"}) == "Ana tem 1,00 {x} {{"


@pytest.mark.parametrize(("field", "text"), [("body", "Olá {nome}!"), ("subject", "Seu {cashbak}")])
def test_a_template_naming_an_unknown_placeholder_is_refused_with_the_valid_ones(merchant, field, text):
    fields = {"body": "Olá {name}", "subject": "Oi", field: text}

    with pytest.raises(ValidationError) as refused, transaction.atomic():
        message_template_create(
            account=merchant.account, name="T", event="sale_rewarded", channel="email", **fields
        )

    message = refused.value.message_dict[field][0]
    assert message.startswith("Unknown placeholder(s): {" + text.split("{")[1].split("}")[0] + "}.")
    assert "{cashback}" in message
    assert "{name}" in message
    assert not MessageTemplate.objects.exists()


def test_send_messages_delivers_email_through_django(merchant, maria):
    queue(merchant, maria)
    out = StringIO()

    call_command("send_messages", stdout=out)

    assert "Sent 1" in out.getvalue()
    assert mail.outbox[0].to == ["maria@example.com"]
    assert mail.outbox[0].body == "Olá Maria, saldo R$ 12,00"
    message = Message.objects.get()
    assert (message.status, message.attempts) == ("sent", 1)
    assert MessageAttempt.objects.get().succeeded


@override_settings(
    MESSAGE_BACKENDS={"sms": "tests.loyalty.test_messages.FailingBackend"}, MESSAGE_MAX_ATTEMPTS=3
)
def test_failures_are_retried_with_backoff_then_failed(merchant, maria):
    queue(merchant, maria, channel="sms")

    report = messages_send_due()
    message = Message.objects.get()
    assert (report.retried, message.status, message.attempts) == (1, "queued", 1)
    assert message.last_error == "ConnectionError: provider down"
    first_delay = message.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_delay <= timedelta(seconds=60)
    assert messages_send_due().retried == 0  # not due yet

    Message.objects.update(next_attempt_at=timezone.now())
    messages_send_due()
    message.refresh_from_db()
    assert timedelta(seconds=110) < message.next_attempt_at - timezone.now() <= timedelta(seconds=120)

    Message.objects.update(next_attempt_at=timezone.now())
    assert messages_send_due().failed == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert MessageAttempt.objects.filter(succeeded=False).count() == 3

    message_retry(message=message)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)


@pytest.mark.django_db(transaction=True)
@override_settings(MESSAGE_BACKENDS={"email": "tests.loyalty.test_messages.RecordingBackend"})
def test_two_concurrent_senders_send_each_message_once(postgres_only, merchant, maria):
    queue(merchant, maria, count=40)
    SENT.clear()

    reports = run_concurrently(2, lambda _: messages_send_due(batch_size=5))

    assert sum(report.sent for report in reports) == 40
    assert sorted(SENT) == sorted(Message.objects.values_list("pk", flat=True))
    assert len(SENT) == len(set(SENT)) == 40
    assert all(report.sent > 0 for report in reports), "both senders took part"
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


def test_messages_are_exported_and_erased_with_the_customer(tenant, merchant, maria):
    queue(merchant, maria)

    export = tenant.v2.get(f"/api/v2/customers/{maria.pk}/export").json()
    assert export["messages"][0]["recipient"] == "maria@example.com"
    assert "Maria" in export["messages"][0]["body"]

    tenant.v2.post(f"/api/v2/customers/{maria.pk}/anonymize")

    message = Message.objects.get()
    assert (message.recipient, message.status) == ("", "withdrawn")
    assert "Maria" not in message.body


def test_a_sale_that_names_no_store_says_the_accounts_name(tenant, maria):
    from loyalty.engine.program import rule_create

    rule_create(account=tenant.account, name="5%", kind="cashback", value="5")
    message_template_create(
        account=tenant.account,
        name="SMS",
        event="sale_rewarded",
        channel="sms",
        body="Você ganhou {cashback} de cashback na {store}. Saldo {balance}",
    )

    # The v2 dialect may leave the store out.
    response = tenant.v2.post(
        "/api/v2/sales", {"customer_id": maria.pk, "sale_amount": 100, "reference": "S-1"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = Message.objects.get(channel="sms").body
    assert f"na {tenant.account.name}." in body
    assert "na ." not in body


# --- marketing consent (LGPD) ------------------------------------------------------------

CPF = "53933515009"


@pytest.fixture
def ana(tenant):
    """A customer with every contact, whom tills name by CPF."""
    return customer_create(
        account=tenant.account, name="Ana", document=CPF, email="ana@example.com", phone="11987654321"
    )


@pytest.fixture
def templates(tenant):
    """A cashback rule, and on each sale a receipt (transactional) and offers (marketing)."""
    rule_create(account=tenant.account, name="5%", kind="cashback", value="5")

    def template(name, channel, purpose):
        return message_template_create(
            account=tenant.account,
            name=name,
            event="sale_rewarded",
            channel=channel,
            purpose=purpose,
            subject=name,
            body="{name}: {cashback}",
        )

    return {
        "receipt": template("Recibo", "sms", "transactional"),
        "sms offers": template("Ofertas SMS", "sms", "marketing"),
        "e-mail offers": template("Ofertas e-mail", "email", "marketing"),
    }


def sell(tenant, coupon, **extra):
    body = {**purchase(coupon=coupon, reference=coupon), **extra}
    response = tenant.pos.put(f"{POS}/shops", body, format="json")
    assert response.status_code in (200, 201), response.content
    return response


def queued(templates) -> set[str]:
    names = {template.pk: name for name, template in templates.items()}
    return {names[pk] for pk in Message.objects.values_list("template_id", flat=True)}


def test_without_consent_a_sale_queues_its_transactional_message_and_no_marketing(tenant, ana, templates):
    response = sell(tenant, "1")

    assert response.json()["rewards"]["messages"] == 1
    assert queued(templates) == {"receipt"}


def test_consent_on_a_channel_lets_its_marketing_through_and_no_other(tenant, ana, templates):
    consent_set(customer=ana, channel="sms", granted=True, source="api")

    response = sell(tenant, "1")

    assert response.json()["rewards"]["messages"] == 2
    assert queued(templates) == {"receipt", "sms offers"}
    assert Message.objects.get(template=templates["sms offers"]).recipient == "+5511987654321"


def test_a_withdrawn_consent_stops_marketing_again(tenant, ana, templates):
    consent_set(customer=ana, channel="sms", granted=True, source="api")
    consent_set(customer=ana, channel="sms", granted=False, source="admin")

    sell(tenant, "1")

    assert queued(templates) == {"receipt"}


def test_an_answer_given_at_the_till_holds_for_that_very_purchase(tenant, ana, templates):
    consent_set(customer=ana, channel="sms", granted=True, source="api")

    sell(tenant, "1", consent={"sms": False, "email": True})

    assert queued(templates) == {"receipt", "e-mail offers"}


def test_a_customer_without_the_channels_contact_costs_no_consent_read(
    tenant, templates, django_assert_num_queries
):
    bia = customer_create(account=tenant.account, name="Bia", document="11144477735")
    event_template = message_template_create(
        account=tenant.account,
        name="Promo",
        event="balance_redeemed",
        channel="sms",
        purpose="marketing",
        body="{name}",
    )
    assert event_template.purpose == "marketing"

    # The templates only: Bia has no phone, so no marketing message could reach her.
    with django_assert_num_queries(1):
        count = messages_queue_event(
            account=tenant.account, customer=bia, event="balance_redeemed", context={}, wallet_after={}
        )

    assert count == 0


def test_event_messages_need_consent_for_marketing_and_none_for_transactional(
    tenant, ana, django_assert_num_queries
):
    for purpose in ("transactional", "marketing"):
        message_template_create(
            account=tenant.account,
            name=purpose,
            event="rewards_expiring",
            channel="whatsapp",
            purpose=purpose,
            body="{name}: {points}",
        )

    def remind():
        return messages_queue_event(
            account=tenant.account, customer=ana, event="rewards_expiring", context={}, wallet_after={}
        )

    # The templates, the customer's consent (one read for any number of templates), the insert.
    with django_assert_num_queries(3):
        assert remind() == 1
    consent_set(customer=ana, channel="whatsapp", granted=True, source="pos", store=tenant.store)
    assert remind() == 2
    assert sorted(Message.objects.values_list("template__purpose", flat=True)) == [
        "marketing",
        "transactional",
        "transactional",
    ]


def test_a_message_rule_with_a_marketing_template_needs_consent(tenant, ana):
    offers = message_template_create(
        account=tenant.account,
        name="Ofertas",
        event="rule_message",
        channel="email",
        purpose="marketing",
        body="{name}, ofertas!",
    )
    rule_create(account=tenant.account, name="Ofertas", kind="message", template=offers)

    def sale(reference):
        body = {"customer_id": ana.pk, "sale_amount": 50, "reference": reference}
        response = tenant.v2.post("/api/v2/sales", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["sale"]["rewards"]["messages"]

    assert sale("S-1") == 0
    consent_set(customer=ana, channel="email", granted=True, source="api")
    assert sale("S-2") == 1
    assert Message.objects.get().recipient == "ana@example.com"


def test_marketing_is_the_templates_choice_and_transactional_the_default(tenant):
    template = message_template_create(
        account=tenant.account, name="T", event="sale_rewarded", channel="sms", body="{name}"
    )

    assert template.purpose == "transactional"
    with pytest.raises(ValidationError), transaction.atomic():
        message_template_create(
            account=tenant.account,
            name="U",
            event="sale_rewarded",
            channel="sms",
            purpose="spam",
            body="{name}",
        )
