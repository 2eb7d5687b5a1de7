"""Returns of a sale in the admin: the sale's page lists them, a form and its confirmation page
record one through the return service, and the dashboard counts them."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from customers.models import LedgerEntry, Wallet
from loyalty.backoffice.numbers import parse_decimal
from sales.admin_returns import SaleReturnForm, sale_returnable
from sales.models import Sale, SaleReturn, SaleReturnLine
from sales.outcomes import ReturnedUnits
from sales.services import ReturnRefused, sale_cancel, sale_return
from tests.builders import V2
from tests.sales.builders import item, purchase, put

pytestmark = pytest.mark.django_db

CPF = "53933515009"
BARCODE = "13456789"  # the seed purchase: 2 × R$ 12, earning R$ 1.20 cashback and 24 points


def bought(tenant, **overrides) -> Sale:
    response = put(tenant, purchase(**overrides))
    assert response.status_code == 201, response.content
    return Sale.objects.get(pk=response.json()["purchase"]["id"])


@pytest.fixture
def sale(tenant, program) -> Sale:
    return bought(tenant)


def wallet(tenant) -> Wallet:
    return Wallet.objects.get(account=tenant.account, customer__document=CPF)


def figures(current: Wallet) -> tuple:
    return current.balance, current.points, current.total_shoppings, current.count_shoppings


def return_url(sale) -> str:
    return reverse("admin:sales_sale_return", args=[sale.pk])


def change_url(sale) -> str:
    return reverse("admin:sales_sale_change", args=[sale.pk])


def written() -> tuple[int, int, int]:
    return SaleReturn.objects.count(), SaleReturnLine.objects.count(), LedgerEntry.objects.count()


def test_the_sale_page_lists_its_returns_in_the_accounts_time(client, staff_a, sale):
    recorded = sale_return(
        sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode=BARCODE, quantity=Decimal("1"))]
    ).sale_return
    client.force_login(staff_a)

    html = client.get(change_url(sale)).content.decode()

    local = timezone.localtime(recorded.created_at, sale.account.tzinfo).strftime(
        "%m/%d/%Y %H:%M"
    )  # English: month first, 24 h
    assert "DEV-1" in html
    assert f"<td>{local}</td>" in html
    assert "<th>When</th>" in html  # in the staff user's zone, as every time of the admin
    assert "1 × Batata Pringles Cheddar Bacon 105g (R$ 12.00)" in html
    assert "Cashback -R$ 0.60" in html
    assert "Points -12" in html
    assert "Total shopped -R$ 12.00" in html
    assert return_url(sale) in html  # one unit is left


def test_the_button_and_the_form_are_for_staff_who_may_cancel_sales(client, staff_a, sale):
    client.force_login(staff_a)

    assert return_url(sale) in client.get(change_url(sale)).content.decode()
    form = client.get(return_url(sale))
    assert form.status_code == 200
    html = form.content.decode()
    assert "Batata Pringles Cheddar Bacon 105g (13456789)" in html
    assert "2 bought for R$ 24.00; 2 left to return." in html
    assert 'value="DEV-1"' in html  # a reference is suggested

    staff_a.user_permissions.remove(Permission.objects.get(codename="cancel_sale"))
    client.force_login(staff_a)
    assert return_url(sale) not in client.get(change_url(sale)).content.decode()
    assert client.get(return_url(sale)).status_code == 403
    assert (
        client.post(return_url(sale), {"reference": "X", "units_0": "1", "_confirm": "1"}).status_code == 403
    )
    assert written()[0] == 0


def test_the_confirmation_page_shows_what_will_be_taken_back_and_writes_nothing(
    client, staff_a, tenant, sale
):
    client.force_login(staff_a)
    before, wallet_before = written(), figures(wallet(tenant))

    response = client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1", "_preview": "1"})

    assert response.status_code == 200
    assert response.templates[0].name == "admin/sales/sale/return_confirmation.html"
    html = response.content.decode()
    assert 'Given back: <strong id="return-amount">R$ 12.00</strong>' in html
    for line in ("Cashback -R$ 0.60", "Points -12", "Total shopped -R$ 12.00"):
        assert f"<li>{line}</li>" in html
    assert 'name="_confirm"' in html
    assert 'name="_back"' in html
    assert (written(), figures(wallet(tenant))) == (before, wallet_before)


def test_confirming_records_one_return_that_moves_the_wallet_as_announced(client, staff_a, tenant, sale):
    client.force_login(staff_a)
    body = {"reference": "DEV-1", "units_0": "1"}
    preview = client.post(return_url(sale), {**body, "_preview": "1"}).context["preview"]

    response = client.post(return_url(sale), {**body, "_confirm": "1"})

    assert response.status_code == 302
    assert response.url == change_url(sale)
    recorded = SaleReturn.objects.get()
    assert (recorded.reference, recorded.amount, recorded.completes) == ("DEV-1", Decimal("12.00"), False)
    assert recorded.outcome == preview.taken_back
    assert recorded.outcome["moved"] == {"balance": "-0.60", "points": "-12.00", "total_shoppings": "-12.00"}
    assert figures(wallet(tenant)) == (Decimal("0.60"), Decimal("12.00"), Decimal("12.00"), 1)
    page = client.get(response.url).content.decode()
    assert "Return DEV-1 recorded: R$ 12.00 given back. Taken back: Cashback -R$ 0.60; Points -12;" in page

    again = client.post(return_url(sale), {**body, "_confirm": "1"})  # the confirmation sent twice

    assert again.status_code == 302
    assert SaleReturn.objects.count() == 1
    assert "Return DEV-1 was already recorded." in client.get(again.url).content.decode()


def test_back_returns_to_the_form_with_what_was_typed(client, staff_a, sale):
    client.force_login(staff_a)

    response = client.post(return_url(sale), {"reference": "DEV-9", "units_0": "1", "_back": "1"})

    assert response.templates[0].name == "admin/sales/sale/return_form.html"
    html = response.content.decode()
    assert 'value="DEV-9"' in html
    assert 'name="units_0" value="1"' in html
    assert written()[0] == 0


def test_returning_the_last_units_completes_and_then_nothing_is_left(client, staff_a, tenant, sale):
    client.force_login(staff_a)

    client.post(return_url(sale), {"reference": "DEV-1", "units_0": "2", "_confirm": "1"})

    assert SaleReturn.objects.get().completes
    assert figures(wallet(tenant)) == (0, 0, 0, 0)
    assert return_url(sale) not in client.get(change_url(sale)).content.decode()
    refused = client.get(return_url(sale))
    assert refused.status_code == 302
    assert "Nothing is left to return of this sale." in client.get(refused.url).content.decode()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"units_0": "3"}, "units_0", "Only 2 left to return."),
        ({"units_0": "0"}, None, "Give back at least one unit."),
        ({"units_0": "-1"}, "units_0", "Give a quantity of 0 or more."),
        ({"units_0": "1,,5"}, "units_0", "Enter a number."),
        ({"units_0": "1", "reference": ""}, "reference", "This field is required."),
    ],
)
def test_refusals_are_form_errors_and_record_nothing(client, staff_a, sale, body, field, message):
    client.force_login(staff_a)
    before = written()

    for button in ("_preview", "_confirm"):
        response = client.post(return_url(sale), {"reference": "DEV-1", **body, button: "1"})

        assert response.status_code == 200
        assert response.templates[0].name == "admin/sales/sale/return_form.html"
        errors = response.context["form"].errors
        assert message in errors[field or "__all__"], errors
    assert written() == before


def test_a_sale_returned_whole_meanwhile_sends_back_to_it(client, staff_a, sale):
    client.force_login(staff_a)
    assert client.get(return_url(sale)).context["form"].fields["units_0"].max_value == 2
    # Someone returns every unit while the page is open.
    sale_return(sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode=BARCODE, quantity=Decimal("2"))])
    before = written()

    response = client.post(return_url(sale), {"reference": "DEV-2", "units_0": "1", "_confirm": "1"})

    assert response.status_code == 302
    assert response.url == change_url(sale)
    assert written() == before


def test_a_reference_already_used_for_the_sale_is_refused(client, staff_a, sale):
    sale_return(sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode=BARCODE, quantity=Decimal("1"))])
    client.force_login(staff_a)
    before = written()

    same = client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1", "_preview": "1"})

    assert "A return of this sale already has this reference." in same.context["form"].errors["reference"]
    assert written() == before
    assert 'value="DEV-2"' in client.get(return_url(sale)).content.decode()


def test_the_form_offers_what_is_left_when_it_is_posted(client, staff_a, tenant, program):
    sale = bought(
        tenant,
        items=[item(barcode="11", unit_value=10, quantity=3), item(barcode="22", unit_value=7, quantity=1)],
    )
    client.force_login(staff_a)
    client.get(return_url(sale))
    sale_return(sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode="11", quantity=Decimal("2"))])
    before = written()

    # The page was built when 3 were left; 1 is left when it is posted.
    response = client.post(
        return_url(sale), {"reference": "DEV-2", "units_0": "2", "units_1": "0", "_preview": "1"}
    )

    errors = response.context["form"].errors
    assert "Only 1 left to return." in errors["units_0"]
    assert written() == before


def test_a_reference_used_for_other_units_is_refused_by_the_service_on_its_field(
    client, staff_a, tenant, program
):
    sale = bought(
        tenant,
        items=[item(barcode="11", unit_value=10, quantity=3), item(barcode="22", unit_value=7, quantity=1)],
    )
    sale_return(sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode="11", quantity=Decimal("1"))])
    client.force_login(staff_a)
    before = written()

    for button in ("_preview", "_confirm"):
        response = client.post(return_url(sale), {"reference": "DEV-1", "units_1": "1", button: "1"})

        errors = response.context["form"].errors
        assert errors["reference"] == ["Return 'DEV-1' of this sale was recorded with other units."]
    assert written() == before


def test_a_refusal_naming_an_item_shows_on_that_items_field(tenant, program):
    sale = bought(
        tenant,
        items=[item(barcode="11", unit_value=10, quantity=3), item(barcode="22", unit_value=7, quantity=1)],
    )
    form = SaleReturnForm({"reference": "DEV-1", "units_1": "1"}, returnable=sale_returnable(sale))
    assert form.is_valid()

    form.add_refusal(ReturnRefused("Item '22': 1 unit(s) asked back, but 0 ...", item="22", available=0))
    form.add_refusal(ReturnRefused("This sale has items: return them by barcode.", field="items"))

    assert form.errors == {
        "units_1": ["Item '22': 1 unit(s) asked back, but 0 ..."],
        "__all__": ["This sale has items: return them by barcode."],
    }


def test_decimal_commas_and_points_are_read_as_the_same_quantity(client, staff_a, tenant, program):
    sale = bought(  # 2.5 kg at R$ 10
        tenant,
        items=[item(barcode="777", unit_value=10, quantity=2.5, unit="kg")],
        payments=[{"method": 1, "total": 25, "splits": 0, "digital_change": 0}],
    )
    client.force_login(staff_a)

    preview = client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1,5", "_preview": "1"})
    assert "<td>1.5</td>" in preview.content.decode()
    assert 'name="units_0" value="1,5"' in preview.content.decode()  # carried as typed to the confirm
    client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1,5", "_confirm": "1"})
    client.post(return_url(sale), {"reference": "DEV-2", "units_0": "0.5", "_confirm": "1"})

    assert list(SaleReturnLine.objects.order_by("id").values_list("quantity", "total")) == [
        (Decimal("1.500"), Decimal("15.00")),
        (Decimal("0.500"), Decimal("5.00")),
    ]


def test_a_sale_without_items_gives_back_an_amount_typed_with_a_comma(client, staff_a, tenant, program):
    answer = tenant.v2.post(
        f"{V2}/sales",
        {"cpf": CPF, "sale_amount": 100, "reference": "A", "date": "2024-05-24 10:00"},
        format="json",
    )
    sale = Sale.objects.get(pk=answer.json()["sale"]["id"])
    client.force_login(staff_a)
    assert "R$ 100.00 left to return." in client.get(return_url(sale)).content.decode()

    too_much = client.post(return_url(sale), {"reference": "DEV-1", "amount": "1.050,00", "_preview": "1"})
    assert "Only R$ 100.00 left to return." in too_much.context["form"].errors["amount"]
    preview = client.post(return_url(sale), {"reference": "DEV-1", "amount": "10,50", "_preview": "1"})
    assert "R$ 10.50" in preview.content.decode()
    client.post(return_url(sale), {"reference": "DEV-1", "amount": "10,50", "_confirm": "1"})

    assert SaleReturn.objects.get().amount == Decimal("10.50")  # never 1050
    assert wallet(tenant).total_shoppings == Decimal("89.50")


def test_an_unidentified_sale_can_be_returned_and_moves_no_wallet(client, staff_a, tenant, program):
    sale = bought(tenant, consumer=None)
    client.force_login(staff_a)

    preview = client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1", "_preview": "1"})
    assert "The sale has no customer: no wallet moves." in preview.content.decode()
    client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1", "_confirm": "1"})

    assert SaleReturn.objects.get().amount == Decimal("12.00")


def test_a_cancelled_sale_offers_no_return(client, staff_a, sale):
    sale_cancel(sale=sale)
    client.force_login(staff_a)

    assert return_url(sale) not in client.get(change_url(sale)).content.decode()
    assert client.get(return_url(sale)).status_code == 302
    client.post(return_url(sale), {"reference": "DEV-1", "units_0": "1", "_confirm": "1"})
    assert written()[0] == 0


def test_staff_of_another_account_cannot_open_or_post_the_form(client, staff_b, superuser, sale):
    client.force_login(staff_b)
    before = written()

    assert client.get(return_url(sale)).status_code == 404
    body = {"reference": "DEV-1", "units_0": "1"}
    assert client.post(return_url(sale), {**body, "_preview": "1"}).status_code == 404
    assert client.post(return_url(sale), {**body, "_confirm": "1"}).status_code == 404
    assert written() == before

    client.force_login(superuser)
    assert client.get(return_url(sale)).status_code == 200


def test_the_dashboard_counts_the_returns_of_the_period(client, staff_a, staff_b, tenant, program):
    now = timezone.localtime(timezone.now(), tenant.account.tzinfo).strftime("%Y-%m-%d %H:%M")
    sale = bought(tenant, date=now)
    sale_return(sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode=BARCODE, quantity=Decimal("1"))])
    gone = bought(tenant, date=now, coupon="16", reference="12")
    sale_return(sale=gone, reference="DEV-1", items=[ReturnedUnits(barcode=BARCODE, quantity=Decimal("1"))])
    sale_cancel(sale=gone)  # a cancelled sale counts in nothing, its returns neither
    client.force_login(staff_a)

    response = client.get(reverse("admin:index"))

    figures_a = response.context["figures"]
    assert (figures_a.returns_count, figures_a.returns_amount) == (1, Decimal("12.00"))
    assert '<td class="figure" id="figure-returns">1 · R$ 12.00</td>' in response.content.decode()
    client.force_login(staff_b)
    assert client.get(reverse("admin:index")).context["figures"].returns_count == 0


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1,5", "1.5"),
        ("10,50", "10.50"),
        ("10.50", "10.50"),
        ("1.050,00", "1050.00"),
        ("1,050.00", "1050.00"),
        ("R$ 7,5", "7.5"),
        ("1.050.000", "1050000"),
        ("12", "12"),
    ],
)
def test_typed_numbers_keep_their_decimal_mark(typed, read):
    assert parse_decimal(typed) == Decimal(read)


@pytest.mark.parametrize(
    ("thousands_mark", "typed", "read"),
    [
        (".", "1.000", "1000"),
        (".", "1,000", "1.000"),
        (",", "1,000", "1000"),
        (",", "1.000", "1.000"),
        (".", "10.50", "10.50"),
    ],
)
def test_a_mark_before_three_digits_is_read_as_the_staff_users_language_writes_it(
    thousands_mark, typed, read
):
    assert parse_decimal(typed, thousands_mark=thousands_mark) == Decimal(read)


@pytest.mark.parametrize("typed", ["5,", "1,,5", "1.05.0", "10,50,00", "abc", ""])
def test_ambiguous_or_broken_numbers_are_refused(typed):
    with pytest.raises(ValueError, match="Not a number"):
        parse_decimal(typed)
