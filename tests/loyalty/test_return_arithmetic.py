"""What a partial return takes back of each rule's grant: the engine's pure evaluation.

Property-based: random baskets over categories, random rules (cashback, points, scoped to
categories, excluded payment methods, caps) and random sequences of partial returns — never
more taken back than granted, never less than nothing, and returning everything takes back
exactly the grant, to the cent.
"""

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from loyalty.engine.rules import (
    CASHBACK,
    POINTS,
    VOUCHER,
    ItemFacts,
    PaymentFacts,
    RuleFacts,
    SaleFacts,
    grant_of,
    returned_share,
    still_earns_voucher,
    taken_back,
)

WHEN = datetime(2026, 6, 1, 15, tzinfo=UTC)
CATEGORIES = (1, 2, 3)

lines = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=2),  # unit value
        st.integers(min_value=1, max_value=6),  # units
        st.sampled_from(CATEGORIES),
    ),
    min_size=1,
    max_size=6,
)
rules = st.builds(
    lambda kind, value, categories, excluded, cap: RuleFacts(
        id=1,
        kind=kind,
        value=value,
        category_ids=frozenset(categories),
        excluded_payment_methods=frozenset(excluded),
        maximum_reward=cap,
    ),
    st.sampled_from([CASHBACK, POINTS]),
    st.decimals(min_value=Decimal("0.1"), max_value=Decimal("25"), places=2),
    st.sets(st.sampled_from(CATEGORIES), max_size=2),
    st.sets(st.sampled_from([9]), max_size=1),
    st.one_of(st.none(), st.decimals(min_value=Decimal("1"), max_value=Decimal("50"), places=2)),
)


def sale_of(basket, paid_with_change: Decimal = Decimal(0)) -> SaleFacts:
    items = tuple(ItemFacts(total=unit * units, category_id=category) for unit, units, category in basket)
    amount = sum((item.total for item in items), Decimal(0))
    payments = (PaymentFacts(method=9, total=min(paid_with_change, amount)),) if paid_with_change else ()
    return SaleFacts(
        occurred_at=WHEN, weekday=0, store_id=None, type="CF", amount=amount, items=items, payments=payments
    )


def returned_items(basket, units_back) -> list[ItemFacts]:
    """The value of `units_back[i]` units of each line, as the sale's lines priced them."""
    return [
        ItemFacts(total=unit * units * back / units, category_id=category)
        for (unit, units, category), back in zip(basket, units_back, strict=True)
        if back
    ]


@settings(max_examples=300, deadline=None)
@given(
    basket=lines,
    rule=rules,
    change=st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2),
    data=st.data(),
)
def test_returns_never_take_back_more_than_the_grant_and_all_of_them_take_back_exactly_it(
    basket, rule, change, data
):
    sale = sale_of(basket, change)
    grant = grant_of(rule, sale)
    granted = grant.amount if grant is not None else Decimal(0)
    # Units are returned in random steps until every unit is back.
    remaining = [units for _, units, _ in basket]
    returned_so_far = [0] * len(basket)
    taken = Decimal(0)
    while any(remaining):
        step = [data.draw(st.integers(min_value=0, max_value=left)) for left in remaining]
        if not any(step):
            step = [left for left in remaining]  # the last return: everything left
        returned_so_far = [done + now for done, now in zip(returned_so_far, step, strict=True)]
        remaining = [left - now for left, now in zip(remaining, step, strict=True)]
        share = returned_share(rule, sale, returned_items(basket, returned_so_far))
        this_time = taken_back(granted=granted, already=taken, share=share, kind=rule.kind)

        assert this_time >= 0
        assert this_time == this_time.quantize(Decimal("0.01"))  # rounded once, to the cent
        taken += this_time
        assert taken <= granted

    assert taken == granted


@settings(max_examples=200, deadline=None)
@given(basket=lines, rule=rules)
def test_returning_only_what_a_category_rule_does_not_reward_takes_nothing_back(basket, rule):
    assume(rule.category_ids)
    sale = sale_of(basket)
    units_back = [units if category not in rule.category_ids else 0 for _, units, category in basket]

    share = returned_share(rule, sale, returned_items(basket, units_back))

    assert share == 0


@settings(max_examples=200, deadline=None)
@given(basket=lines, rule=rules)
def test_returning_everything_a_rule_rewards_is_the_whole_share(basket, rule):
    sale = sale_of(basket)
    rewarded = [not rule.category_ids or category in rule.category_ids for _, _, category in basket]
    assume(any(rewarded))
    units_back = [units if counts else 0 for (_, units, _), counts in zip(basket, rewarded, strict=True)]

    assert returned_share(rule, sale, returned_items(basket, units_back)) == 1


def test_the_seed_purchase_returned_one_unit_then_the_other():
    """R$ 24 of Pringles (2 × 12), 5 % cashback: 1.20; one unit back takes 0.60, the other 0.60."""
    basket = [(Decimal("12"), 2, 1)]
    rule = RuleFacts(id=1, kind=CASHBACK, value=Decimal("5"))
    sale = sale_of(basket)
    granted = grant_of(rule, sale).amount

    first = taken_back(
        granted=granted,
        already=Decimal(0),
        share=returned_share(rule, sale, returned_items(basket, [1])),
        kind=CASHBACK,
    )
    second = taken_back(
        granted=granted,
        already=first,
        share=returned_share(rule, sale, returned_items(basket, [2])),
        kind=CASHBACK,
    )

    assert (granted, first, second) == (Decimal("1.20"), Decimal("0.60"), Decimal("0.60"))


def test_odd_cents_round_once_and_the_last_return_takes_what_is_left():
    """R$ 10 in three units, 5 %: 0.50; a third back is 0.17 (0.1666… half up), two thirds
    0.33 in all, so the second takes 0.16 and the last the 0.17 left."""
    sale = SaleFacts(
        occurred_at=WHEN,
        weekday=0,
        store_id=None,
        type="CF",
        amount=Decimal("10"),
        items=(ItemFacts(total=Decimal("10"), category_id=1),),
    )
    rule = RuleFacts(id=1, kind=CASHBACK, value=Decimal("5"))
    granted = grant_of(rule, sale).amount
    third = [ItemFacts(total=Decimal("10") * n / 3, category_id=1) for n in (1, 2, 3)]

    taken = []
    for returned in third:
        taken.append(
            taken_back(
                granted=granted,
                already=sum(taken, Decimal(0)),
                share=returned_share(rule, sale, [returned]),
                kind=CASHBACK,
            )
        )

    assert taken == [Decimal("0.17"), Decimal("0.16"), Decimal("0.17")]
    assert sum(taken) == granted


def test_a_sale_without_items_returns_by_amount():
    sale = SaleFacts(occurred_at=WHEN, weekday=0, store_id=None, type="CF", amount=Decimal("152.99"))
    rule = RuleFacts(id=1, kind=POINTS, value=Decimal("1"))

    assert returned_share(rule, sale, [], returned_amount=Decimal("52.99")) == Decimal("52.99") / Decimal(
        "152.99"
    )
    assert returned_share(rule, sale, [], returned_amount=Decimal("200")) == 1


def test_a_voucher_rule_stops_earning_when_what_is_left_falls_below_its_threshold():
    rule = RuleFacts(id=1, kind=VOUCHER, value=Decimal("20"), threshold=Decimal("200"))
    sale = sale_of([(Decimal("50"), 5, 1)])  # R$ 250

    assert still_earns_voucher(rule, sale, share=Decimal("0.2"))  # R$ 200 left
    assert not still_earns_voucher(rule, sale, share=Decimal("0.21"))
