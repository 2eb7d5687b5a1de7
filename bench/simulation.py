"""`python -m bench.simulation` (what `make bench-simulate` runs): the what-if simulator on
100,000 recorded sales, seeded and timed in one process.

1. PostgreSQL from `DATABASE_URL` (default the local server): the database `<name>_simulation`
   (`loyalty_bench_simulation` by default; the name must contain `bench`) is dropped, created
   and migrated.
2. `bench.seed.sales` loads one account, in this process: `BENCH_SIMULATION_SALES` (100,000)
   recorded, identified sales of 10 items each over the 90 local days before today, of 20,000
   customers at 4 stores, one payment each, some with a partial return, a few cancelled ones
   besides, and a program of four rules in force.
3. `rules_simulate` replays them here (`settings.production`), under the program in force and
   under a draft adding "Double points on Saturdays": once untimed on the last day (imports,
   the program's cache, prepared statements), then over the 90 days, timed by the wall clock,
   with this process's CPU time and PostgreSQL's (`bench.cpu`) over the same run.
4. The figures, the process's peak RSS and the target (100,000 sales in under 20 s) on stdout
   and in `bench/results/simulation.md`.
"""

import os
import platform
import resource
import signal
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version
from typing import Any

import django

from bench import cpu
from bench.report import _cpu_model
from bench.stack import (
    DEFAULT_DATABASE_URL,
    RESULTS,
    BenchError,
    database_name,
    database_url_named,
    manage,
    recreate_databases,
    server_environment,
)

REPORT = RESULTS / "simulation.md"
PACKAGES = ("Django", "psycopg")
ACCOUNT_NAME = "Simulação"
TARGET_SALES = 100_000
TARGET_SECONDS = 20
SATURDAY = 5


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _money(value: float) -> str:
    return f"R$ {value:,.2f}"


def _points(value: float) -> str:
    return f"{value:,.2f}"


def _timed(simulate) -> dict[str, Any]:
    postgres_before = cpu.cpu_seconds(cpu.postgres_pids())
    cpu_started, started = time.process_time(), time.perf_counter()
    result = simulate()
    seconds = time.perf_counter() - started
    return {
        "result": result,
        "seconds": seconds,
        "process_cpu": time.process_time() - cpu_started,
        "postgres_cpu": cpu.cpu_seconds(cpu.postgres_pids()) - postgres_before,
    }


def render(*, context: dict[str, Any], seeded, timed: dict[str, Any], rss: tuple[float, float]) -> str:
    """The Markdown of `bench/results/simulation.md` (also printed)."""
    counts, seed_seconds, result = seeded.counts, seeded.seconds, timed["result"]
    recorded = counts["sales"] - counts["sales_cancelled"]
    seconds, replayed = timed["seconds"], result["sales"]
    current, difference = result["current"], result["difference"]
    packages = ", ".join(f"{name} {value}" for name, value in context["packages"].items())
    if replayed >= TARGET_SALES:
        verdict = "met" if seconds < TARGET_SECONDS else "**missed**"
        target = f"{replayed:,} sales in {seconds:.1f} s — {verdict}."
    else:
        target = (
            f"not measured: {replayed:,} sales replayed, fewer than the target's (`BENCH_SIMULATION_SALES`)."
        )
    lines = [
        "# make bench-simulate — latest results",
        "",
        f"- **When:** {context['date']}; the whole run took {context['seconds']:.0f} s, seeding included. "
        f"The machine's load average was {context['load_before']} as it started.",
        f"- **Machine:** {context['cores']} cores ({context['cpu']}), {context['memory_gib']} GiB; "
        "PostgreSQL on the same machine, over loopback; other work on the machine adds noise.",
        f"- **Software:** Python {context['python']}, PostgreSQL {context['postgresql']}, {packages}.",
        f"- **Account:** {recorded:,} recorded sales of 10 items ({counts['items']:,} items with the "
        f"cancelled ones, one payment each) over the local days {seeded.date_from} to {seeded.date_to}, "
        f"of {counts['customers']:,} customers at {counts['stores']} stores, in {counts['categories']} "
        f"categories (leaves of {counts['root_categories']} roots); {counts['returns']:,} of them with a partial return ({counts['return_lines']:,} lines "
        f"back), and {counts['sales_cancelled']:,} cancelled sales besides. Program in force: 1 point per "
        "R$ 1, 2 % cashback (not on benefit cards), 5 % cashback on a category, a R$ 15 voucher from "
        "R$ 450; points valued by a reward of R$ 10 for 500 points. `bench.seed.sales` loaded it in "
        f"{seed_seconds['total']:.0f} s (items {seed_seconds['items']:.0f} s, foreign keys "
        f"{seed_seconds.get('foreign keys', 0):.0f} s, statistics {seed_seconds['statistics']:.0f} s).",
        "- **Method:** `rules_simulate` in the benchmark's own process (`settings.production`): the "
        'program in force against a draft adding "Double points on Saturdays" (1 point per R$ 1 on '
        "weekday 5), once untimed on the last day, then over the whole range, timed by the wall clock. "
        "Beside it, over the same run, this process's CPU time and that of every PostgreSQL process on "
        "the machine (`/proc`), and the process's peak RSS (`getrusage`: the seeding's included, so "
        "its value before the timed run is given too).",
        "",
        "| sales replayed | seconds (wall) | sales/s | process CPU s | PostgreSQL CPU s "
        "| peak RSS MiB (before the timed run) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {replayed:,} | {seconds:.1f} | {replayed / seconds:,.0f} | {timed['process_cpu']:.1f} "
        f"| {timed['postgres_cpu']:.1f} | {rss[1]:.0f} ({rss[0]:.0f}) |",
        "",
        f"Target (100,000 recorded sales of 10 items simulated in under {TARGET_SECONDS} s): {target}",
        "",
        f"Sanity: the rules in force cost {_money(current['cost'])} on these sales (cashback "
        f"{_money(current['cashback'])}, {_points(current['points'])} points worth "
        f"{_money(current['points_value'])}, {current['vouchers']:,} vouchers worth "
        f"{_money(current['vouchers_value'])}); the draft adds {_points(difference['points'])} points "
        f"({_money(difference['cost'])}).",
    ]
    return "\n".join(lines) + "\n"


def _context(*, server_version: str, seconds: float, load_before: float) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count() or 1,
        "cpu": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "postgresql": server_version.split()[0],
        "seconds": seconds,
        "load_before": load_before,
    }


def run() -> int:
    started = time.monotonic()
    load_before = round(os.getloadavg()[0], 1)
    base_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = f"{database_name(base_url)}_simulation"
    url = database_url_named(base_url, name)
    sales = int(os.environ.get("BENCH_SIMULATION_SALES", str(TARGET_SALES)))
    print(f"make bench-simulate: {sales:,} recorded sales of 10 items into {name}")
    try:
        server_version = recreate_databases(url, [name])
        manage(url, "migrate", "--noinput", "-v", "0")
    except BenchError as error:
        print(f"\n{error}", file=sys.stderr)
        return 2
    os.environ.update(server_environment(url))
    django.setup()
    # The models load once Django is set up, in this process: the seeding and the timed run share it.
    from bench.seed.sales import SalesSize, simulation_sales_load  # noqa: PLC0415
    from loyalty.engine.program import rule_build  # noqa: PLC0415
    from loyalty.engine.simulation.services import Draft, DraftRule, Window, rules_simulate  # noqa: PLC0415

    def report(part: str, rows: int, seconds: float) -> None:
        counted = f"{rows:>10,} rows" if rows else " " * 15
        print(f"  {part:<30}{counted} {seconds:7.1f} s", flush=True)

    print("seeding:")
    seed_started = time.perf_counter()
    seeded = simulation_sales_load(name=ACCOUNT_NAME, size=SalesSize(sales=sales), report=report)
    seeded.seconds["total"] = round(time.perf_counter() - seed_started, 2)
    print(f"  {'total':<45} {seeded.seconds['total']:7.1f} s")

    account = seeded.account
    draft = Draft(
        add=(
            DraftRule(
                rule=rule_build(
                    account=account,
                    name="Double points on Saturdays",
                    kind="points",
                    value=Decimal("1"),
                    weekdays=[SATURDAY],
                )
            ),
        )
    )
    warm_up = Window(date_from=seeded.date_to, date_to=seeded.date_to)
    whole = Window(date_from=seeded.date_from, date_to=seeded.date_to)
    print(f"simulating {seeded.date_from} to {seeded.date_to} ...", flush=True)
    rules_simulate(account=account, window=warm_up, draft=draft)
    rss_before = _peak_rss_mib()
    timed = _timed(lambda: rules_simulate(account=account, window=whole, draft=draft))
    context = _context(
        server_version=server_version, seconds=time.monotonic() - started, load_before=load_before
    )
    text = render(context=context, seeded=seeded, timed=timed, rss=(rss_before, _peak_rss_mib()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
    print()
    print(text)
    return 0


def _stop_on_terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    sys.exit(run())
