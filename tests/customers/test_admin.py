"""Customers and wallets in the admin: search, scoping, adjustments, consent, LGPD actions."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import ConsentChange, Customer, LedgerEntry
from customers.services import LotTerms, Posting, consent_set, wallet_credit, wallet_post
from loyalty.core.dates import last_local_day
from loyalty.core.receipts import Receipt
from loyalty.outbox.models import MessageTemplate
from loyalty.shell.privacy import customer_erase
from sales.models import Sale
from sales.outcomes import SaleInput
from sales.services import sale_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(merchant):
    customer = CustomerFactory(
        account=merchant.account,
        name="Maria Souza",
        document="53933515009",
        phone="(11) 98765-4321",
        email="maria@example.com",
    )
    wallet_credit(customer=customer, kind="cashback", amounts={"balance": Decimal("20.00")})
    return customer


@pytest.fixture
def joao(merchant):
    return CustomerFactory(
        account=merchant.account, name="João Lima", document="11144477735", email="joao@x.com"
    )


def changelist(client, **params):
    response = client.get(reverse("admin:customers_customer_changelist"), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize(
    "term",
    [
        "539.335.150-09",
        "53933515009",
        "(11) 98765-4321",
        "+55 11 98765 4321",
        "11987654321",
        "MARIA@example",
        "souza",
    ],
)
def test_search_finds_by_cpf_phone_email_or_name(client, staff_a, maria, joao, term):
    client.force_login(staff_a)

    assert changelist(client, q=term) == [maria]


def test_staff_of_another_account_sees_no_customer(client, make_staff, other_merchant, maria):
    client.force_login(make_staff(other_merchant.account, username="staff-b"))

    assert changelist(client) == []
    assert changelist(client, q="53933515009") == []
    response = client.get(reverse("admin:customers_customer_change", args=[maria.pk]))
    assert response.status_code == 302


def test_change_form_shows_the_wallet_read_only_with_the_ledger(client, staff_a, maria):
    client.force_login(staff_a)

    response = client.get(reverse("admin:customers_customer_change", args=[maria.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cashback balance" in html
    assert "Cashback +R$ 20.00" in html
    assert 'name="balance"' not in html
    assert reverse("admin:customers_customer_adjust_wallet", args=[maria.pk]) in html


def test_change_form_says_what_expires_next(client, staff_a, maria):
    soon = timezone.now() + timedelta(days=3)
    wallet_post(
        customer=maria,
        postings=[
            Posting(kind="cashback", deltas={"balance": Decimal("4.50")}, lot=LotTerms(expires_at=soon))
        ],
    )
    client.force_login(staff_a)

    html = client.get(reverse("admin:customers_customer_change", args=[maria.pk])).content.decode()

    last_day = last_local_day(soon, maria.account.tzinfo)
    assert f"0 points and R$ 4.50 cashback at the end of {last_day:%m/%d/%Y}" in html  # English: month first


def test_adjustment_goes_through_the_ledger_signed_by_the_staff_user(client, staff_a, maria):
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_adjust_wallet", args=[maria.pk])

    response = client.post(url, {"bucket": "points", "amount": "-0", "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"amount", "reason"}

    body = {"bucket": "balance", "amount": "-5.50", "reason": "Refund correction"}
    confirmation = client.post(url, body)
    assert confirmation.status_code == 200
    assert "-R$ 5.50" in confirmation.content.decode()
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()  # shown, not written yet

    response = client.post(url, {**body, "confirm": "1"})

    assert response.status_code == 302
    maria.wallet.refresh_from_db()
    assert maria.wallet.balance == Decimal("14.50")
    entry = LedgerEntry.objects.filter(kind="adjustment").get()
    assert (entry.balance, entry.staff_user, entry.reason) == (Decimal("-5.50"), staff_a, "Refund correction")
    ledger = client.get(
        reverse("admin:customers_ledgerentry_changelist") + f"?wallet__customer__id__exact={maria.pk}"
    )
    assert ledger.context["cl"].result_list[0].pk == entry.pk


@pytest.mark.parametrize(
    ("typed", "moved", "shown"),
    [
        ("10,50", "10.50", "+R$ 10.50"),
        ("10.50", "10.50", "+R$ 10.50"),
        ("1.050,00", "1050.00", "+R$ 1,050.00"),
    ],
)
def test_an_adjustment_typed_with_a_decimal_comma_is_shown_as_money_then_written(
    client, staff_a, maria, typed, moved, shown
):
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_adjust_wallet", args=[maria.pk])
    body = {"bucket": "balance", "amount": typed, "reason": "Goodwill"}

    confirmation = client.post(url, body).content.decode()
    assert shown in confirmation
    back = client.post(url, {**body, "back": "1"})
    assert back.context["form"]["amount"].value() == typed  # the form as typed, nothing written
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()

    assert client.post(url, {**body, "confirm": "1"}).status_code == 302

    assert LedgerEntry.objects.get(kind="adjustment").balance == Decimal(moved)


def test_adjustment_below_zero_is_refused_in_the_form(client, staff_a, maria):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:customers_customer_adjust_wallet", args=[maria.pk]),
        {"bucket": "balance", "amount": "-25", "reason": "Too much"},
    )

    assert response.status_code == 200
    assert "Insufficient balance" in response.context["form"].errors["amount"][0]
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


def test_adjustment_of_a_foreign_customer_is_404(client, make_staff, other_merchant, maria):
    client.force_login(make_staff(other_merchant.account, username="staff-b"))

    response = client.post(
        reverse("admin:customers_customer_adjust_wallet", args=[maria.pk]),
        {"bucket": "balance", "amount": "100", "reason": "steal"},
    )

    assert response.status_code == 404


def test_ledger_is_read_only(client, staff_a, maria):
    client.force_login(staff_a)
    entry = LedgerEntry.objects.get()

    assert client.get(reverse("admin:customers_ledgerentry_add")).status_code == 403
    response = client.post(reverse("admin:customers_ledgerentry_change", args=[entry.pk]), {"balance": "999"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.balance == Decimal("20.00")


def test_add_customer_normalises_and_refuses_duplicates(client, staff_a, maria, merchant):
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_add")

    duplicate = client.post(url, {"name": "Outra", "document": "539.335.150-09", "extra": "{}"})
    assert duplicate.status_code == 200
    assert f"(id {maria.pk})" in str(duplicate.context["adminform"].form.errors["document"])

    created = client.post(url, {"name": "Pedro", "phone": "(11) 91234-5678", "extra": "{}"})
    assert created.status_code == 302
    pedro = Customer.objects.get(name="Pedro")
    assert (pedro.phone, pedro.account) == ("+5511912345678", merchant.account)
    assert pedro.wallet.balance == 0


def test_export_action_downloads_json(client, staff_a, maria):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "export_selected", "_selected_action": [maria.pk]},
    )

    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["customer"]["cpf"] == "53933515009"
    assert data["wallet"]["balance"] == 20.0


def test_export_action_writes_amounts_as_numbers_like_the_api(client, staff_a, maria):
    sale_record(
        account=maria.account,
        sent=SaleInput(
            source=Sale.Source.API,
            occurred_at=timezone.now(),
            customer_id=maria.pk,
            receipt=Receipt(reference="ERP-1"),
            declared_amount=Decimal("24.50"),
        ),
    )
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "export_selected", "_selected_action": [maria.pk]},
    )

    data = json.loads(response.content)
    assert data["wallet"]["total_shoppings"] == 24.5
    assert data["ledger"][0]["balance"] == 20
    assert data["sales"][0]["amount"] == 24.5
    assert response["Content-Disposition"] == f'attachment; filename="customer-{maria.pk}-export.json"'


def test_anonymise_action_asks_then_erases(client, staff_a, maria):
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_changelist")

    confirm = client.post(url, {"action": "anonymize_selected", "_selected_action": [maria.pk]})
    assert confirm.status_code == 200
    maria.refresh_from_db()
    assert maria.document == "53933515009"

    client.post(url, {"action": "anonymize_selected", "_selected_action": [maria.pk], "confirmed": "yes"})

    maria.refresh_from_db()
    assert (maria.document, maria.phone, maria.email, maria.name) == (None, None, None, "Anonymised customer")
    assert LedgerEntry.objects.filter(wallet__customer=maria).count() == 1


def test_superuser_sees_every_account(client, superuser, maria, other_merchant):
    other = CustomerFactory(account=other_merchant.account, document="53933515009")
    client.force_login(superuser)

    assert set(changelist(client, q="53933515009")) == {maria, other}


# --- marketing consent ----------------------------------------------------------------------


def change_form_data(customer, **consent) -> dict:
    """The customer's change form as the page posts it, with the consent choices given."""
    return {
        "name": customer.name,
        "document": customer.document or "",
        "phone": customer.phone or "",
        "email": customer.email or "",
        "birth_date": "",
        "gender": customer.gender,
        "extra": json.dumps(customer.extra),
        **{f"consent_{channel}": answer for channel, answer in consent.items()},
    }


def test_the_customer_page_shows_consent_per_channel_and_its_history(client, staff_a, maria, merchant):
    consent_set(customer=maria, channel="sms", granted=True, source="pos", store=merchant.store)
    consent_set(customer=maria, channel="sms", granted=False, source="api")
    client.force_login(staff_a)

    response = client.get(reverse("admin:customers_customer_change", args=[maria.pk]))

    form = response.context["adminform"].form
    assert (form["consent_sms"].initial, form["consent_email"].initial) == ("no", None)
    html = response.content.decode()
    assert "Marketing consent (LGPD)" in html
    assert "Till (POS) · Main store" in html
    assert html.count("Withdrawn") == 1
    assert reverse("admin:customers_consentchange_changelist") + f"?customer__id__exact={maria.pk}" in html


def test_staff_change_consent_through_the_service_signed_with_their_user(client, staff_a, maria):
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_change", args=[maria.pk])

    response = client.post(url, change_form_data(maria, email="yes", whatsapp="no"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    changes = ConsentChange.objects.filter(customer=maria).order_by("id")
    assert [(c.channel, c.granted, c.source, c.staff_user, c.store) for c in changes] == [
        ("email", True, "admin", staff_a, None),
        ("whatsapp", False, "admin", staff_a, None),
    ]
    assert maria.marketing_channels() == {"email"}
    history = client.get(
        reverse("admin:customers_consentchange_changelist") + f"?customer__id__exact={maria.pk}"
    )
    assert list(history.context["cl"].result_list) == list(changes.reverse())


def test_saving_the_customer_without_touching_consent_writes_none(client, staff_a, maria):
    consent_set(customer=maria, channel="sms", granted=True, source="api")
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_change", args=[maria.pk])

    client.post(url, change_form_data(maria, sms="yes"))
    client.post(url, {**change_form_data(maria), "name": "Maria S."})

    assert Customer.objects.get(pk=maria.pk).name == "Maria S."
    assert ConsentChange.objects.filter(customer=maria).count() == 1


def test_an_answered_channel_cannot_go_back_to_not_asked(client, staff_a, maria):
    consent_set(customer=maria, channel="sms", granted=True, source="api")
    client.force_login(staff_a)

    page = client.get(reverse("admin:customers_customer_change", args=[maria.pk]))

    assert [value for value, _ in page.context["adminform"].form.fields["consent_sms"].choices] == [
        "yes",
        "no",
    ]


def test_an_anonymised_customers_consent_is_read_only(client, staff_a, maria):
    customer_erase(customer=maria)
    client.force_login(staff_a)
    url = reverse("admin:customers_customer_change", args=[maria.pk])

    page = client.get(url)
    client.post(url, change_form_data(maria, sms="yes"))

    assert page.context["adminform"].form.fields["consent_sms"].disabled
    assert not ConsentChange.objects.exists()


def test_consent_chosen_when_staff_add_a_customer_is_recorded(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:customers_customer_add"),
        {"name": "Pedro", "phone": "(11) 91234-5678", "extra": "{}", "consent_sms": "yes"},
    )

    assert response.status_code == 302
    pedro = Customer.objects.get(name="Pedro")
    change = ConsentChange.objects.get(customer=pedro)
    assert (change.channel, change.granted, change.source, change.staff_user) == (
        "sms",
        True,
        "admin",
        staff_a,
    )


def test_the_consent_history_is_read_only(client, staff_a, maria):
    change = consent_set(customer=maria, channel="sms", granted=True, source="api")
    client.force_login(staff_a)

    assert client.get(reverse("admin:customers_consentchange_add")).status_code == 403
    response = client.post(reverse("admin:customers_consentchange_change", args=[change.pk]), {"granted": ""})
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.granted is True


def test_message_templates_show_and_take_their_purpose(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:loyalty_messagetemplate_add"),
        {
            "name": "Ofertas",
            "event": "sale_rewarded",
            "channel": "sms",
            "purpose": "marketing",
            "body": "Ofertas, {name}!",
            "active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    template = MessageTemplate.objects.get(account=merchant.account)
    assert template.purpose == "marketing"
    listed = client.get(reverse("admin:loyalty_messagetemplate_changelist"), {"purpose__exact": "marketing"})
    assert list(listed.context["cl"].result_list) == [template]
    assert "Marketing" in listed.content.decode()
