"""The admin's charts, drawn by the application as SVG: the dashboard's sales per day, and a
simulation's cost per day under the rules in force and under a draft.

A chart a store manager reads at a glance, without hovering: a value axis with round
ticks, a label under each day (every few days on long periods), the amount over each bar
and a visible stub for a day without sales. Geometry is computed here and handed to the
template as plain coordinates, so that no locale ever writes `12,5` inside an SVG attribute.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import date_format, number_format

WIDTH = 960
HEIGHT = 300
LEFT = 64  # room for the value axis' labels
RIGHT = 8
TOP = 24  # room for the tallest bar's value
BOTTOM = 40  # room for the day labels
EMPTY_STUB = 2  # a day without sales still shows as a sliver on the axis


@dataclass(frozen=True)
class ChartDay:
    day: date
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    label_x: str
    day_label: str  # empty on the days between labels of a long period
    value_label: str  # empty where bars are too narrow to carry it
    title: str
    empty: bool


@dataclass(frozen=True)
class Tick:
    y: str
    label: str


@dataclass(frozen=True)
class SalesChart:
    width: int
    height: int
    left: int
    baseline: str
    right: int
    bars: list[Bar]
    ticks: list[Tick]
    rotate_values: bool


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value`, so the axis ticks are round."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)  # pragma: no cover - the loop always returns


def _whole(value: Decimal) -> str:
    """An amount rounded to whole reais, grouped for the active language (R$ 1.235)."""
    return number_format(value.quantize(Decimal(1), rounding=ROUND_HALF_UP), 0, force_grouping=True)


def _ticks(top: Decimal, baseline: float, plot_height: float) -> list[Tick]:
    """The value axis from 0 to `top` in round steps: 200 in 4 (50 each), 250 or 500 in 5
    (50, 100), 100 in 5 (20)."""
    steps = 4 if top.scaleb(-top.adjusted()) == 2 else 5
    return [
        Tick(y=_coordinate(baseline - plot_height * step / steps), label=_whole(top * step / steps))
        for step in range(steps + 1)
    ]


def sales_chart(days: list[ChartDay], *, money_label, sales_label) -> SalesChart:
    """The chart of `days`, oldest first. `money_label(amount)` writes an amount for a person
    (R$ 1.234,56) and `sales_label(count)` a count of sales, both in the active language."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    top = _nice_ceiling(max((day.amount for day in days), default=Decimal(0)))
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.7, 1.0)
    label_every = 1 if len(days) <= 16 else 2 if len(days) <= 31 else 7
    show_values = len(days) <= 31
    bars = []
    for index, day in enumerate(days):
        height = float(day.amount / top) * plot_height if day.amount > 0 else 0.0
        height = max(height, EMPTY_STUB)
        x = LEFT + index * slot + (slot - bar_width) / 2
        from_end = len(days) - 1 - index
        bars.append(
            Bar(
                x=_coordinate(x),
                y=_coordinate(baseline - height),
                width=_coordinate(bar_width),
                height=_coordinate(height),
                label_x=_coordinate(x + bar_width / 2),
                day_label=date_format(day.day, "d/m") if from_end % label_every == 0 else "",
                value_label=_whole(day.amount) if show_values and day.amount > 0 else "",
                title=f"{date_format(day.day, 'SHORT_DATE_FORMAT')}: {sales_label(day.count)}, "
                f"{money_label(day.amount)}",
                empty=day.amount <= 0,
            )
        )
    ticks = _ticks(top, baseline, plot_height)
    return SalesChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        baseline=_coordinate(baseline),
        right=WIDTH - RIGHT,
        bars=bars,
        ticks=ticks,
        rotate_values=len(days) > 16,
    )


@dataclass(frozen=True)
class ComparedDay:
    day: date
    current: Decimal
    draft: Decimal


@dataclass(frozen=True)
class DayLabel:
    x: str
    label: str


@dataclass(frozen=True)
class ComparisonChart:
    """Two lines over the same days: what the rules in force cost, and what the draft would."""

    width: int
    height: int
    left: int
    baseline: str
    right: int
    current_points: str  # an SVG polyline's `points`
    draft_points: str
    ticks: list[Tick]
    days: list[DayLabel]
    titles: list[tuple[str, str, str]]  # x, y of the draft's point, and what it says


def comparison_chart(days: list[ComparedDay], *, money_label) -> ComparisonChart:
    """The chart of the cost per day of the current rules and of a draft, oldest day first.
    `money_label(amount)` writes an amount for a person in the active language."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    highest = max((max(day.current, day.draft) for day in days), default=Decimal(0))
    top = _nice_ceiling(highest)
    step = plot_width / max(len(days) - 1, 1)
    label_every = 1 if len(days) <= 16 else 2 if len(days) <= 31 else 7

    def x_of(index: int) -> float:
        return LEFT + index * step if len(days) > 1 else LEFT + plot_width / 2

    def y_of(amount: Decimal) -> float:
        return baseline - float(max(amount, Decimal(0)) / top) * plot_height

    def line(values: list[Decimal]) -> str:
        return " ".join(
            f"{_coordinate(x_of(index))},{_coordinate(y_of(value))}" for index, value in enumerate(values)
        )

    return ComparisonChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        baseline=_coordinate(baseline),
        right=WIDTH - RIGHT,
        current_points=line([day.current for day in days]),
        draft_points=line([day.draft for day in days]),
        ticks=_ticks(top, baseline, plot_height),
        days=[
            DayLabel(x=_coordinate(x_of(index)), label=date_format(day.day, "d/m"))
            for index, day in enumerate(days)
            if (len(days) - 1 - index) % label_every == 0
        ],
        titles=[
            (
                _coordinate(x_of(index)),
                _coordinate(y_of(day.draft)),
                f"{date_format(day.day, 'SHORT_DATE_FORMAT')}: {money_label(day.current)} → {money_label(day.draft)}",
            )
            for index, day in enumerate(days)
        ],
    )
