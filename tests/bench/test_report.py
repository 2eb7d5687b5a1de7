"""The results table: ratios to the floor, targets, and runs that measured nothing."""

import dataclasses

import pytest

from bench import report
from bench.loadgen import LatencySummary
from bench.run import Measurements

CONTEXT = report.Context(
    date="2026-01-01 00:00 UTC",
    cores=2,
    cpu="a CPU",
    memory_gib=24.0,
    python="3.11",
    packages={"Django": "5.2"},
    postgresql="15.20",
    workers=3,
    threads=2,
    saturation_clients=12,
    fixed_seconds=12,
    saturation_seconds=6,
    customers=100_000,
    ledger_rows=1_000_000,
    seconds=300,
    load_before=0.5,
)
FAST = LatencySummary(count=1200, errors=0, p50=5.0, p95=9.0, p99=12.0, max=30.0)
SLOW = LatencySummary(count=600, errors=2, p50=50.0, p95=70.0, p99=80.0, max=120.0)


def measured() -> Measurements:
    return Measurements(
        fixed={"health": FAST, "wallet": FAST, "purchase": SLOW},
        rates={"health": 100, "wallet": 100, "purchase": 50},
        saturation={"health": 1000.0, "wallet": 200.0, "purchase": 40.0},
        saturation_errors={"health": 0, "wallet": 0, "purchase": 1},
        floor_pairs={"wallet": 800.0, "purchase": 800.0},
        growth={"wallet": {"small": FAST, "large": SLOW}},
    )


def test_each_saturation_is_divided_by_the_floor_measured_beside_it():
    table = report.render(CONTEXT, measured(), seed_seconds={"total": 50, "ledger": 30})

    assert "| POS wallet lookup | 200 | 0.25 | 100 | 5.0 | 9.0 | 12.0 | 30.0 | 0 / 0 |" in table
    assert "| POS purchase, 10 items | 40 | 0.05 | 50 | 50.0 | 70.0 | 80.0 | 120.0 | 2 / 1 |" in table
    assert "| GET /api/health (the floor: one SELECT 1) | 1000 | 1.00 |" in table


def test_targets_say_met_or_missed():
    table = report.render(CONTEXT, measured(), seed_seconds={"total": 50, "ledger": 30})

    assert "- POS wallet lookup: p99 12.0 ms at 100 req/s, target under 25 ms — met." in table
    assert "- POS purchase, 10 items: p99 80.0 ms at 50 req/s, target under 60 ms — **missed**." in table
    assert "- Purchase saturation 5% of the floor's, target at least 30 % — **missed**." in table
    assert "p50 ×10.00 from 1,000 customers, target within ×1.2 — **missed**." in table
    assert "`seed_bench` at the default size: 50 s, target under 120 s — met." in table


def test_an_operation_offered_more_than_it_serves_is_pointed_out():
    over = measured()
    over.saturation["purchase"] = 30.0

    assert "Offered more than they could serve at that moment (POS purchase, 10 items)" in report.render(
        CONTEXT, over, seed_seconds={}
    )


def test_a_run_without_answers_or_floor_still_renders():
    empty = measured()
    empty.fixed["purchase"] = LatencySummary(
        count=0, errors=600, p50=float("nan"), p95=float("nan"), p99=float("nan"), max=float("nan")
    )
    empty.floor_pairs["purchase"] = 0.0
    empty.skipped.append("customers")

    table = report.render(CONTEXT, empty, seed_seconds={})

    assert "| POS purchase, 10 items | 40 | – | 50 | – | – | – | – | 600 / 1 |" in table
    assert "| v2 customers list (page of 50) | not measured (time ran out) |" in table
    assert "Not measured (the run's time limit): customers." in table


@pytest.mark.parametrize(
    ("threshold", "said"),
    [
        (
            "2",
            "statements prepared from their execution number 3 on a connection (`DATABASE_PREPARE_THRESHOLD=2`)",
        ),
        ("off", "statements prepared never (`DATABASE_PREPARE_THRESHOLD=off`)"),
    ],
)
def test_the_server_line_says_how_statements_were_prepared(threshold, said):
    context = dataclasses.replace(CONTEXT, prepare_threshold=threshold)

    assert said in report.render(context, measured(), seed_seconds={})
