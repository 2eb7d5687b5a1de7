"""The results table of `make bench`: figures, ratios, targets, and what they were measured on."""

import math
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version

from bench.operations import (
    GROWTH_OPERATIONS,
    GROWTH_TARGET,
    OPERATION_LABELS,
    P99_TARGETS,
    READ_RATE,
    SATURATION_TARGETS,
)

PACKAGES = ("Django", "djangorestframework", "psycopg", "gunicorn", "aiohttp")
# A growth comparison at a rate closer than this to the saturation throughput measures the queue.
NEAR_CAPACITY = 1.5
SEED_TARGET_SECONDS = 120


@dataclass(frozen=True)
class Context:
    date: str
    cores: int
    cpu: str
    memory_gib: float
    python: str
    packages: dict[str, str]
    postgresql: str
    workers: int
    threads: int
    saturation_clients: int
    fixed_seconds: float
    saturation_seconds: float
    customers: int
    ledger_rows: int
    seconds: float
    load_before: float
    prepare_threshold: str = "2"

    @classmethod
    def collect(cls, *, config, server_version: str, seconds: float, load_before: float) -> "Context":
        return cls(
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            cores=os.cpu_count() or 1,
            cpu=_cpu_model(),
            memory_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            python=platform.python_version(),
            packages={name: version(name) for name in PACKAGES},
            postgresql=server_version.split()[0],
            workers=config.workers,
            threads=config.threads,
            saturation_clients=config.saturation_clients,
            fixed_seconds=config.fixed_seconds,
            saturation_seconds=config.saturation_seconds,
            customers=config.customers,
            ledger_rows=config.ledger_rows,
            seconds=round(seconds),
            load_before=load_before,
            prepare_threshold=os.environ.get("DATABASE_PREPARE_THRESHOLD", "2").strip() or "off",
        )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ms(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"  # NaN: no successful answer


def _cpu_ms(value: float) -> str:
    return "–" if value != value else f"{value:.2f}"  # NaN: not read, or no request answered


def _cpu_cells(cpu_use) -> str:
    """The two CPU columns: gunicorn + PostgreSQL = server, and the load generator."""
    if cpu_use is None:
        return "– | –"
    return (
        f"{_cpu_ms(cpu_use.gunicorn_ms)} + {_cpu_ms(cpu_use.postgres_ms)} = {_cpu_ms(cpu_use.server_ms)} "
        f"| {_cpu_ms(cpu_use.load_generator_ms)}"
    )


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator else "–"


def _prepared(threshold: str) -> str:
    if threshold.lower() in {"off", "none"}:
        return "never (`DATABASE_PREPARE_THRESHOLD=off`)"
    return f"from their execution number {int(threshold) + 1} on a connection (`DATABASE_PREPARE_THRESHOLD={threshold}`)"


def _met(condition: bool) -> str:
    return "met" if condition else "**missed**"


def render(context: Context, measurements, *, seed_seconds: dict[str, float]) -> str:
    """The Markdown of `bench/results/latest.md` (also printed)."""
    packages = ", ".join(f"{name} {value}" for name, value in context.packages.items())
    lines = [
        "# make bench — latest results",
        "",
        f"- **When:** {context.date}; the whole run took {context.seconds} s. The machine's load average "
        f"was {context.load_before} as it started.",
        f"- **Machine:** {context.cores} cores ({context.cpu}), {context.memory_gib} GiB; server, PostgreSQL "
        "and load generator share it (loopback), and other work on the machine adds noise: compare ratios, "
        "each taken seconds apart, before absolute figures.",
        f"- **Software:** Python {context.python}, PostgreSQL {context.postgresql}, {packages}.",
        f"- **Server:** gunicorn, {context.workers} workers × {context.threads} threads (gthread), "
        "`settings.production`, persistent database connections, statements prepared "
        f"{_prepared(context.prepare_threshold)}.",
        f"- **Account:** {context.customers:,} customers, {context.ledger_rows:,} ledger rows, 5,000 products, "
        f"500 promotions; `seed_bench` loaded it in {seed_seconds.get('total', 0):.0f} s "
        f"(ledger {seed_seconds.get('ledger', 0):.0f} s).",
        f"- **Method:** latency in an open loop at a fixed offered rate for {context.fixed_seconds:.0f} s "
        "(counted from each request's scheduled send); saturation throughput with "
        f"{context.saturation_clients} clients in a closed loop for {context.saturation_seconds:.0f} s, "
        "each right after a saturation run of the floor, which its ratio divides by. Server CPU per request: "
        "the CPU time (user + system, from `/proc/<pid>/stat`) of the gunicorn master and workers and of "
        "every PostgreSQL process on the machine (its other databases idle) over the operation's saturation run, divided by the requests answered in "
        f"it. The load generator shares the {context.cores} cores: its own CPU per request over the same run "
        "is reported beside, not hidden.",
        "",
        "| operation | saturation (req/s) | × floor | fixed rate (req/s) | p50 ms | p95 ms | p99 ms | max ms "
        "| errors (fixed / sat.) | server CPU ms/req (gunicorn + pg = total) | load generator CPU ms/req |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in OPERATION_LABELS.items():
        if key not in measurements.fixed:
            lines.append(f"| {label} | not measured (time ran out) | | | | | | | | | |")
            continue
        fixed = measurements.fixed[key]
        saturation = measurements.saturation.get(key, float("nan"))
        floor = measurements.floor_pairs.get(key, saturation)
        lines.append(
            f"| {label} | {saturation:.0f} | {_ratio(saturation, floor)} | {measurements.rates[key]} "
            f"| {_ms(fixed.p50)} | {_ms(fixed.p95)} | {_ms(fixed.p99)} | {_ms(fixed.max)} "
            f"| {fixed.errors} / {measurements.saturation_errors.get(key, 0)} "
            f"| {_cpu_cells(measurements.cpu_use.get(key))} |"
        )
    over_capacity = [
        OPERATION_LABELS[key]
        for key, rate in measurements.rates.items()
        if measurements.saturation.get(key, rate) < rate
    ]
    if over_capacity:
        lines += [
            "",
            f"Offered more than they could serve at that moment ({'; '.join(over_capacity)}): their fixed "
            "rate is above their saturation throughput, so their latencies are mostly the queue's.",
        ]
    floors = sorted(measurements.floor_pairs.values())
    if floors:
        lines += [
            "",
            f"The floor's saturation, measured beside each operation: {floors[0]:.0f} to {floors[-1]:.0f} req/s "
            f"(median {floors[len(floors) // 2]:.0f}).",
        ]
    if any(use.postgres is None for use in measurements.cpu_use.values()):
        lines += [
            "",
            "PostgreSQL's CPU was not read: no PostgreSQL process runs on this machine (the server "
            "`DATABASE_URL` names is elsewhere), so the server CPU is gunicorn's alone.",
        ]
    lines += _growth(context, measurements)
    lines += _targets(measurements, seed_seconds)
    errors = {key: kinds for key, kinds in measurements.error_kinds.items() if kinds}
    if errors:
        lines += ["", "Errors by kind: " + "; ".join(f"{key}: {kinds}" for key, kinds in errors.items())]
    if measurements.max_send_lag_ms > 5:
        lines += [
            "",
            f"The load generator sent some requests up to {measurements.max_send_lag_ms:.0f} ms late (a busy "
            "machine); their latency still counts from the scheduled time.",
        ]
    if measurements.skipped:
        lines += ["", f"Not measured (the run's time limit): {', '.join(measurements.skipped)}."]
    return "\n".join(lines) + "\n"


def _growth(context: Context, measurements) -> list[str]:
    if not measurements.growth:
        return []
    lines = [
        "",
        f"Growth: the same requests at {READ_RATE} req/s on an account of 1,000 customers and one of "
        f"{context.customers:,}, back to back.",
        "",
        f"| operation | 1,000 customers p50 / p99 ms | {context.customers:,} customers p50 / p99 ms "
        "| ratio p50 | ratio p99 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, pair in measurements.growth.items():
        small, large = pair["small"], pair["large"]
        lines.append(
            f"| {OPERATION_LABELS[key]} | {_ms(small.p50)} / {_ms(small.p99)} | {_ms(large.p50)} / {_ms(large.p99)} "
            f"| {_ratio(large.p50, small.p50)} | {_ratio(large.p99, small.p99)} |"
        )
    near_capacity = [
        OPERATION_LABELS[key]
        for key in measurements.growth
        if measurements.saturation.get(key, math.inf) < NEAR_CAPACITY * READ_RATE
    ]
    if near_capacity:
        lines += [
            "",
            f"Near its saturation at {READ_RATE} req/s on this machine (less than {NEAR_CAPACITY}× that rate) "
            f"— {'; '.join(near_capacity)}: queueing, more than the account's size, sets those latencies.",
        ]
    return lines


def _targets(measurements, seed_seconds: dict[str, float]) -> list[str]:
    lines = ["", "Targets (`docs/performance.md`):", ""]
    for key, least in SATURATION_TARGETS.items():
        label = OPERATION_LABELS[key]
        if key not in measurements.saturation:
            lines.append(
                f"- {label}: saturation not measured, target at least {least:.2f} × floor — **missed**."
            )
            continue
        saturation, floor = measurements.saturation[key], measurements.floor_pairs.get(key, 0.0)
        share = _factor(saturation / floor, ".3f") if floor else "–"  # 0.149 is not 0.15
        lines.append(
            f"- {label}: saturation {share} × floor ({saturation:.0f} of {floor:.0f} req/s), "
            f"target at least {least:.2f} — {_met(bool(floor) and saturation / floor >= least)}."
        )
    for key, (under_ms, rate) in P99_TARGETS.items():
        label = OPERATION_LABELS[key]
        fixed = measurements.fixed.get(key)
        if fixed is None:
            lines.append(
                f"- {label}: p99 not measured, target under {under_ms} ms at {rate} req/s — **missed**."
            )
            continue
        measured_rate = measurements.rates[key]
        target = f"target under {under_ms} ms" + ("" if measured_rate == rate else f" at {rate} req/s")
        lines.append(
            f"- {label}: p99 {_ms(fixed.p99)} ms at {measured_rate} req/s, {target} — "
            f"{_met(measured_rate == rate and fixed.p99 < under_ms)}."
        )
    for key in GROWTH_OPERATIONS:
        label = OPERATION_LABELS[key]
        pair = measurements.growth.get(key)
        if pair is None:
            lines.append(f"- Growth of {label}: not measured, target within ×{GROWTH_TARGET} — **missed**.")
            continue
        ratio = pair["large"].p50 / pair["small"].p50 if pair["small"].p50 else math.nan
        lines.append(
            f"- Growth of {label}: p50 ×{_factor(ratio)} from 1,000 customers, target within "
            f"×{GROWTH_TARGET} — {_met(ratio <= GROWTH_TARGET)}."
        )
    total = seed_seconds.get("total", math.nan)
    lines.append(
        f"- `seed_bench` at the default size: {_factor(total, '.0f')} s, target under {SEED_TARGET_SECONDS} s — "
        f"{_met(total < SEED_TARGET_SECONDS)}."
    )
    return lines


def _factor(value: float, spec: str = ".2f") -> str:
    return format(value, spec) if math.isfinite(value) else "–"


def raw(context: Context, measurements, seed_seconds: dict[str, float]) -> dict:
    """Every figure of the run, for `bench/results/latest.json`."""
    return {
        "context": asdict(context),
        "measurements": asdict(measurements),
        "cpu_ms_per_request": {key: use.per_request_ms() for key, use in measurements.cpu_use.items()},
        "seed_seconds": seed_seconds,
    }
