"""The simulator's benchmark data at a tiny size: consistent rows, and what `rules_simulate`
replays from them equal to what the rows themselves say."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from bench.seed.sales import SalesSize, SeededSales, simulation_sales_load
from loyalty.core.dates import local_date
from loyalty.engine.program import rule_build
from loyalty.engine.simulation.services import Draft, DraftRule, Window, rules_simulate
from sales.models import Sale, SaleItem, SalePayment, SaleReturn, SaleReturnLine

pytestmark = pytest.mark.django_db

SATURDAY = 5
TINY = SalesSize(sales=30, customers=7, stores=3, days=14, returned_every=3, cancelled_every=4)


@pytest.fixture
def seeded() -> SeededSales:
    return simulation_sales_load(name="Simulação", size=TINY)


def window_of(seeded: SeededSales) -> Window:
    return Window(date_from=seeded.date_from, date_to=seeded.date_to)


def points_left(sales) -> Decimal:
    """One point per R$ 1 of each sale, less what its returns gave back, from the rows alone."""
    amount = sales.aggregate(total=Sum("amount"))["total"]
    returned = SaleReturn.objects.filter(sale__in=sales).aggregate(total=Sum("amount"))["total"]
    return amount - (returned or 0)


def test_the_counts_are_the_ones_asked_for(seeded):
    sales = Sale.objects.filter(account=seeded.account)

    assert sales.filter(status=Sale.Status.RECORDED).count() == 30
    assert sales.filter(status=Sale.Status.CANCELLED, cancelled_at__isnull=False).count() == 7
    assert not sales.filter(customer__isnull=True).exists()
    assert sales.values("store_id").order_by().distinct().count() == 3
    assert sales.values("customer_id").order_by().distinct().count() == 7
    assert SaleItem.objects.filter(sale__account=seeded.account).count() == 37 * 10
    assert SalePayment.objects.filter(sale__account=seeded.account).count() == 37
    assert seeded.counts["returns"] == SaleReturn.objects.filter(account=seeded.account).count() > 0
    assert not SaleReturn.objects.filter(sale__status=Sale.Status.CANCELLED).exists()


def test_every_sale_is_the_sum_of_its_lines_and_its_payment(seeded):
    sales = Sale.objects.filter(account=seeded.account).annotate(
        lines=Sum("items__total"), categorised=Count("items__category")
    )

    for sale in sales:
        assert sale.amount == sale.lines
        assert sale.categorised == 10
        assert [payment.total for payment in sale.payments.all()] == [sale.amount]
        assert sale.local_date == local_date(sale.occurred_at, seeded.account.tzinfo)
        assert seeded.date_from <= sale.local_date <= seeded.date_to


def test_returns_give_back_whole_lines_of_their_sale(seeded):
    for sale_return in SaleReturn.objects.filter(account=seeded.account):
        lines = SaleReturnLine.objects.filter(sale_return=sale_return).select_related("item")

        assert 1 <= len(lines) <= 2
        assert all(line.item.sale_id == sale_return.sale_id for line in lines)
        assert all((line.quantity, line.total) == (line.item.quantity, line.item.total) for line in lines)
        assert sale_return.amount == sum(line.total for line in lines)
        assert 0 < sale_return.amount < sale_return.sale.amount


def test_the_simulator_replays_the_recorded_sales_and_skips_the_cancelled(seeded):
    recorded = Sale.objects.filter(account=seeded.account, status=Sale.Status.RECORDED)

    result = rules_simulate(account=seeded.account, window=window_of(seeded), draft=Draft())

    assert result["sales"] == 30
    assert result["customers"] == recorded.values("customer_id").order_by().distinct().count()
    assert Decimal(str(result["current"]["points"])) == points_left(recorded)
    assert result["difference"]["points"] == 0
    assert result["current"]["cashback"] > 0


def test_double_points_on_saturdays_adds_the_saturdays_points(seeded):
    recorded = Sale.objects.filter(account=seeded.account, status=Sale.Status.RECORDED)
    saturdays = [sale.pk for sale in recorded if sale.local_date.weekday() == SATURDAY]
    draft = Draft(
        add=(
            DraftRule(
                rule=rule_build(
                    account=seeded.account,
                    name="Double points on Saturdays",
                    kind="points",
                    value=Decimal("1"),
                    weekdays=[SATURDAY],
                )
            ),
        )
    )

    result = rules_simulate(account=seeded.account, window=window_of(seeded), draft=draft)

    assert saturdays
    assert Decimal(str(result["difference"]["points"])) == points_left(recorded.filter(pk__in=saturdays))


def test_a_size_without_room_for_a_partial_return_is_refused():
    with pytest.raises(ValueError, match="2 to 240 lines"):
        SalesSize(items=1)
    with pytest.raises(ValueError, match="at least one"):
        SalesSize(cancelled_every=0)
