"""A replay's tallies as the simulation's answer: rounded once, points valued in R$, the
draft beside the current rules and the difference, in all and by day, store and category."""

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from loyalty.core.money import ZERO, json_amount, round_money, round_points
from loyalty.engine.simulation.replay import CURRENT, DRAFT, Liability, Replay, Tally
from vouchers.selectors import PointsValuation


def _totals(tally: Tally, valuation: PointsValuation) -> dict[str, Decimal | int]:
    cashback, points = round_money(tally.cashback), round_points(tally.points)
    points_value = valuation.of(points)
    vouchers_value = round_money(tally.vouchers_value)
    return {
        "cashback": cashback,
        "points": points,
        "points_value": points_value,
        "vouchers": tally.vouchers,
        "vouchers_value": vouchers_value,
        "cost": cashback + points_value + vouchers_value,
        "customers": len(tally.customers),
    }


def _compared(pair: tuple[Tally, Tally], valuation: PointsValuation) -> dict[str, Any]:
    current, draft = _totals(pair[CURRENT], valuation), _totals(pair[DRAFT], valuation)
    return {
        "current": _json(current),
        "draft": _json(draft),
        "difference": _json({name: draft[name] - current[name] for name in current}),
    }


def _json(totals: Mapping[str, Decimal | int]) -> dict[str, int | float]:
    return {name: value if isinstance(value, int) else json_amount(value) for name, value in totals.items()}


def _owed(liability: Liability, valuation: PointsValuation) -> dict[str, Decimal]:
    cashback, points = round_money(liability.cashback), round_points(liability.points)
    points_value, vouchers_value = valuation.of(points), round_money(liability.vouchers_value)
    return {
        "cashback": cashback,
        "points": points,
        "points_value": points_value,
        "vouchers_value": vouchers_value,
        "total": cashback + points_value + vouchers_value,
    }


def simulation_result(
    *,
    replay: Replay,
    valuation: PointsValuation,
    date_from: date,
    date_to: date,
    store_names: Mapping[int, str],
    category_names: Mapping[int, str],
) -> dict[str, Any]:
    """The answer of a simulation (JSON-ready: amounts as exact numbers)."""
    empty = (Tally(), Tally())
    days = [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]
    current_owed = _owed(replay.liability[CURRENT], valuation)
    draft_owed = _owed(replay.liability[DRAFT], valuation)
    return {
        "sales": replay.sales,
        "customers": len(replay.customers),
        "points_valued_at": {
            "reward_id": valuation.reward_id,
            "reward_name": valuation.reward_name,
            "value_per_point": json_amount(valuation.value_per_point or ZERO),
        },
        **_compared(replay.total, valuation),
        "liability_added": _json({name: draft_owed[name] - current_owed[name] for name in draft_owed}),
        "by_day": [
            {"date": day.isoformat(), **_compared(replay.by_day.get(day, empty), valuation)} for day in days
        ],
        "by_store": [
            {
                "store_id": store_id,
                "store_name": store_names.get(store_id) if store_id is not None else None,
                **_compared(pair, valuation),
            }
            for store_id, pair in sorted(
                replay.by_store.items(), key=lambda entry: (entry[0] is None, entry[0] or 0)
            )
        ],
        "by_category": [
            {
                "category_id": category_id,
                "category_name": category_names.get(category_id) if category_id is not None else None,
                **_compared(pair, valuation),
            }
            for category_id, pair in sorted(
                replay.by_category.items(), key=lambda entry: (entry[0] is None, entry[0] or 0)
            )
        ],
    }
