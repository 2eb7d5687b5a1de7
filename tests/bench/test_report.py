"""The results table: ratios to the floor, targets, and runs that measured nothing."""

import dataclasses
import json

import pytest

from bench import report
from bench.cpu import CpuUse
from bench.loadgen import LatencySummary
from bench.operations import P99_TARGETS, WRITES, Operation
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
        cpu_use={
            "health": CpuUse(requests=6000, seconds=6.0, gunicorn=6.0, postgres=3.0, load_generator=1.5),
            "wallet": CpuUse(requests=1200, seconds=6.0, gunicorn=5.4, postgres=3.0, load_generator=0.6),
            "purchase": CpuUse(requests=240, seconds=6.1, gunicorn=8.4, postgres=2.4, load_generator=0.12),
        },
        growth={"wallet": {"small": FAST, "large": SLOW}},
    )


def test_each_saturation_is_divided_by_the_floor_measured_beside_it():
    table = report.render(CONTEXT, measured(), seed_seconds={"total": 50, "ledger": 30})

    assert "| POS wallet lookup | 200 | 0.25 | 100 | 5.0 | 9.0 | 12.0 | 30.0 | 0 / 0 |" in table
    assert "| POS purchase, 10 items | 40 | 0.05 | 50 | 50.0 | 70.0 | 80.0 | 120.0 | 2 / 1 |" in table
    assert "| GET /api/health (the floor: one SELECT 1) | 1000 | 1.00 |" in table


def test_each_row_gives_the_server_s_cpu_and_the_load_generator_s_per_request():
    table = report.render(CONTEXT, measured(), seed_seconds={"total": 50, "ledger": 30})

    assert (
        "| errors (fixed / sat.) | server CPU ms/req (gunicorn + pg = total) | load generator CPU ms/req |"
        in table
    )
    assert "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n" in table
    assert "| 0 / 0 | 1.00 + 0.50 = 1.50 | 0.25 |" in table.split("GET /api/health")[1].split("\n")[0]
    assert (
        "| POS wallet lookup | 200 | 0.25 | 100 | 5.0 | 9.0 | 12.0 | 30.0 | 0 / 0 | 4.50 + 2.50 = 7.00 | 0.50 |"
        in table
    )
    assert "| 2 / 1 | 35.00 + 10.00 = 45.00 | 0.50 |" in table


def test_the_method_says_how_cpu_is_measured_and_that_the_load_generator_shares_the_cores():
    method = next(
        line
        for line in report.render(CONTEXT, measured(), seed_seconds={}).splitlines()
        if line.startswith("- **Method:**")
    )

    assert "Server CPU per request: the CPU time (user + system, from `/proc/<pid>/stat`)" in method
    assert "of the gunicorn master and workers and of every PostgreSQL process on the machine" in method
    assert "The load generator shares the 2 cores: its own CPU per request over the same run" in method


def test_an_operation_without_cpu_figures_or_postgres_shows_dashes_and_says_why():
    partial = measured()
    del partial.cpu_use["purchase"]
    partial.cpu_use["wallet"] = CpuUse(
        requests=1200, seconds=6.0, gunicorn=5.4, postgres=None, load_generator=0.6
    )

    table = report.render(CONTEXT, partial, seed_seconds={})

    assert "| 2 / 1 | – | – |" in table
    assert "| 0 / 0 | 4.50 + – = – | 0.50 |" in table
    assert "PostgreSQL's CPU was not read: no PostgreSQL process runs on this machine" in table
    assert "PostgreSQL's CPU was not read" not in report.render(CONTEXT, measured(), seed_seconds={})


def test_the_raw_figures_carry_the_cpu_per_request():
    figures = json.loads(json.dumps(report.raw(CONTEXT, measured(), {"total": 50})))

    assert figures["cpu_ms_per_request"]["wallet"] == {
        "gunicorn": 4.5,
        "postgres": 2.5,
        "server": 7.0,
        "load_generator": 0.5,
    }
    assert figures["measurements"]["cpu_use"]["purchase"] == {
        "requests": 240,
        "seconds": 6.1,
        "gunicorn": 8.4,
        "postgres": 2.4,
        "load_generator": 0.12,
    }


def targets(measurements: Measurements, seed_seconds: dict) -> list[str]:
    table = report.render(CONTEXT, measurements, seed_seconds=seed_seconds)
    return table.split("Targets (`docs/performance.md`):\n\n")[1].split("\n\n")[0].splitlines()


def test_targets_say_met_or_missed():
    lines = targets(measured(), {"total": 50, "ledger": 30})

    assert lines == [
        "- POS purchase, 10 items: saturation 0.050 × floor (40 of 800 req/s), target at least 0.15 — **missed**.",
        "- v2 sale, 10 items: saturation not measured, target at least 0.20 × floor — **missed**.",
        "- POS discount quote, 20 items: saturation not measured, target at least 0.30 × floor — **missed**.",
        "- POS balance redeem: saturation not measured, target at least 0.25 × floor — **missed**.",
        "- POS wallet lookup: saturation 0.250 × floor (200 of 800 req/s), target at least 0.50 — **missed**.",
        "- v2 voucher validate: saturation not measured, target at least 0.50 × floor — **missed**.",
        "- v2 customers list (page of 50): saturation not measured, target at least 0.30 × floor — **missed**.",
        "- POS purchase, 10 items: p99 80.0 ms at 50 req/s, target under 40 ms — **missed**.",
        "- v2 sale, 10 items: p99 not measured, target under 40 ms at 50 req/s — **missed**.",
        "- POS discount quote, 20 items: p99 not measured, target under 20 ms at 100 req/s — **missed**.",
        "- POS balance redeem: p99 not measured, target under 25 ms at 50 req/s — **missed**.",
        "- POS wallet lookup: p99 12.0 ms at 100 req/s, target under 10 ms — **missed**.",
        "- v2 voucher validate: p99 not measured, target under 10 ms at 100 req/s — **missed**.",
        "- v2 customers list (page of 50): p99 not measured, target under 25 ms at 100 req/s — **missed**.",
        "- Growth of POS wallet lookup: p50 ×10.00 from 1,000 customers, target within ×1.2 — **missed**.",
        "- Growth of POS discount quote, 20 items: not measured, target within ×1.2 — **missed**.",
        "- Growth of v2 customers list (page of 50): not measured, target within ×1.2 — **missed**.",
        "- `seed_bench` at the default size: 50 s, target under 120 s — met.",
    ]


def every_operation(summary: LatencySummary, saturation: float, floor: float) -> Measurements:
    keys = list(report.OPERATION_LABELS)
    return Measurements(
        fixed=dict.fromkeys(keys, summary),
        rates={key: 50 if key in WRITES else 100 for key in keys},
        saturation=dict.fromkeys(keys, saturation),
        floor_pairs=dict.fromkeys(keys[1:], floor),
        growth={key: {"small": summary, "large": summary} for key in ("wallet", "quote", "customers")},
    )


def test_every_target_is_met_at_its_threshold_and_missed_just_past_it():
    just_met = every_operation(
        LatencySummary(count=1200, errors=0, p50=5.0, p95=8.0, p99=9.9, max=20.0),
        saturation=500.0,
        floor=1000.0,
    )
    just_missed = every_operation(
        LatencySummary(count=1200, errors=0, p50=5.0, p95=8.0, p99=40.0, max=50.0),
        saturation=149.0,
        floor=1000.0,
    )
    for key in just_missed.growth:
        just_missed.growth[key] = {"small": FAST, "large": dataclasses.replace(FAST, p50=6.01)}

    met = targets(just_met, {"total": 119})
    missed = targets(just_missed, {"total": 120})

    assert len(met) == len(missed) == 7 + 7 + 3 + 1
    assert all(line.endswith(" — met.") for line in met), met
    assert all(line.endswith(" — **missed**.") for line in missed), missed
    assert (
        "- v2 customers list (page of 50): saturation 0.500 × floor (500 of 1000 req/s), target at least 0.30 — met."
        in met
    )
    assert (
        "- Growth of v2 customers list (page of 50): p50 ×1.20 from 1,000 customers, target within ×1.2 — **missed**."
        in missed
    )


def test_a_p99_measured_at_another_rate_than_its_target_s_is_missed():
    elsewhere = measured()
    elsewhere.rates["wallet"] = 50

    assert (
        "- POS wallet lookup: p99 12.0 ms at 50 req/s, target under 10 ms at 100 req/s — **missed**."
        in targets(elsewhere, {})
    )


@pytest.mark.parametrize("key", sorted(P99_TARGETS))
def test_each_operation_is_offered_the_rate_of_its_p99_target(key):
    operation = Operation(key, report.OPERATION_LABELS[key], key in WRITES, lambda index: None)

    assert operation.rate == P99_TARGETS[key][1]


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
