"""`python -m bench.run` (what `make bench` runs): one whole benchmark, bounded in time.

1. PostgreSQL from `DATABASE_URL` (default the local server): two databases are dropped
   and created, the large one and `<name>_small`, and both are migrated.
2. `seed_bench` loads 100,000 customers and 1,000,000 ledger rows into the large one,
   and 1,000 customers into the small one (the growth comparison).
3. Two gunicorn servers (one per database) on loopback ports from `BENCH_PORT`.
4. From this process, for each operation and the floor (`GET /api/health`): a warm-up,
   latency at a fixed offered rate (open loop), throughput at saturation (closed loop)
   right after a saturation run of the floor, so that each ratio to the floor compares
   two measurements taken seconds apart. Over each operation's saturation run, the CPU
   time of the gunicorn processes, of PostgreSQL's and of this process (the load
   generator), read from /proc (`bench.cpu`). Then the wallet lookup, the quote and the
   customers list on the small account and the large one, back to back.
5. One table on stdout and in `bench/results/latest.md` (raw figures: `latest.json`).

Settings from the environment: `DATABASE_URL`, `BENCH_REDIS_URL` (redis://127.0.0.1:6379; the
servers' caches use its databases 10 and 11, emptied first), `BENCH_PORT` (8111), `BENCH_WORKERS`,
`BENCH_THREADS`, `BENCH_FIXED_SECONDS` (12), `BENCH_SATURATION_SECONDS` (6),
`BENCH_CUSTOMERS` / `BENCH_LEDGER_ROWS` (the large account's size).
"""

import asyncio
import json
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field

import aiohttp

from bench import cpu, loadgen, report
from bench.operations import GROWTH_OPERATIONS, BenchClient, Operation, token_request
from bench.stack import (
    RESULTS,
    BenchError,
    Config,
    Server,
    database_name,
    database_url_named,
    flush_redis,
    manage,
    recreate_databases,
    redis_url_numbered,
)

# The seeded accounts, secrets included, for `bench.profile` (ignored by git).
ACCOUNTS_FILE = RESULTS / "accounts.json"
WARM_UP_SECONDS = 2
FLOOR_PAIR_SECONDS = 4
REQUEST_TIMEOUT = 10
SETTLE_SECONDS = 20
SETTLED_ANSWER_SECONDS = 0.1
SMALL_CUSTOMERS = 1_000
# Redis databases of the two servers' caches (of BENCH_REDIS_URL), emptied at the start.
LARGE_REDIS_DB = 10
SMALL_REDIS_DB = 11
# Phases not begun by then are skipped, so that make bench, install included, ends within 10 minutes.
DEADLINE_SECONDS = 8 * 60


@dataclass
class Measurements:
    fixed: dict[str, loadgen.LatencySummary] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    saturation: dict[str, float] = field(default_factory=dict)
    saturation_errors: dict[str, int] = field(default_factory=dict)
    floor_pairs: dict[str, float] = field(default_factory=dict)
    cpu_use: dict[str, cpu.CpuUse] = field(default_factory=dict)
    growth: dict[str, dict[str, loadgen.LatencySummary]] = field(default_factory=dict)
    error_kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    max_send_lag_ms: float = 0.0
    skipped: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, config: Config, started: float) -> None:
        self.config = config
        self.started = started
        self.measurements = Measurements()

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started > DEADLINE_SECONDS

    async def token(self, session, account: dict) -> str:
        request = token_request(account)
        async with session.post(request.path, data=request.body, headers=dict(request.headers)) as response:
            body = await response.json()
            if response.status != 200:
                raise BenchError(f"The token endpoint answered {response.status}: {body}")
            return body["access_token"]

    async def fixed_rate(self, session, operation: Operation, first_index: int) -> loadgen.LatencySummary:
        outcomes = await loadgen.open_loop(
            session,
            operation.make_request,
            rate=operation.rate,
            duration=self.config.fixed_seconds,
            first_index=first_index,
        )
        self.measurements.max_send_lag_ms = max(
            self.measurements.max_send_lag_ms, outcomes.max_send_lag * 1000
        )
        self._errors(operation.key, outcomes)
        self.measurements.rates[operation.key] = operation.rate
        return loadgen.summarize(outcomes)

    async def saturate(
        self, session, operation: Operation, seconds: float, first_index: int
    ) -> tuple[float, loadgen.Outcomes]:
        outcomes, throughput = await loadgen.closed_loop(
            session,
            operation.make_request,
            concurrency=self.config.saturation_clients,
            duration=seconds,
            first_index=first_index,
        )
        self._errors(operation.key, outcomes)
        return throughput, outcomes

    def _errors(self, key: str, outcomes: loadgen.Outcomes) -> None:
        kinds = self.measurements.error_kinds.setdefault(key, {})
        for kind, count in outcomes.errors.items():
            kinds[kind] = kinds.get(kind, 0) + count

    async def settle(self, session) -> None:
        """Wait until the server answers the floor promptly again: an overloaded run may
        leave requests queued in the server after the client gave up on them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while loop.time() < deadline:
            sent = loop.time()
            try:
                async with session.get("/api/health") as response:
                    await response.read()
            except (aiohttp.ClientError, TimeoutError):
                continue
            if loop.time() - sent < SETTLED_ANSWER_SECONDS:
                return
            await asyncio.sleep(0.2)

    async def warm_up(self, session, operation: Operation, first_index: int) -> None:
        await loadgen.closed_loop(
            session,
            operation.make_request,
            concurrency=self.config.slots,
            duration=WARM_UP_SECONDS,
            first_index=first_index,
        )

    async def measure(self, large: Server, small: Server, large_account: dict, small_account: dict) -> None:
        run_tag = secrets.token_hex(3)
        gunicorn_master = large.process.pid
        timeout = REQUEST_TIMEOUT
        async with (
            loadgen.new_session(large.base_url, timeout=timeout) as large_session,
            loadgen.new_session(small.base_url, timeout=timeout) as small_session,
        ):
            large_client = BenchClient(
                large_account, await self.token(large_session, large_account), run_tag=run_tag
            )
            small_client = BenchClient(
                small_account, await self.token(small_session, small_account), run_tag=run_tag
            )
            operations = large_client.operations()
            floor = operations[0]
            # Request numbers never repeat within a run: every write is a new one.
            numbers = iter(range(0, 10**9, 100_000))
            for operation in operations:
                if self.out_of_time():
                    self.measurements.skipped.append(operation.key)
                    continue
                print(f"  {operation.label} ...", flush=True)
                await self.warm_up(large_session, operation, next(numbers))
                self.measurements.fixed[operation.key] = await self.fixed_rate(
                    large_session, operation, next(numbers)
                )
                await self.settle(large_session)
                if operation is not floor:
                    self.measurements.floor_pairs[operation.key], _ = await self.saturate(
                        large_session, floor, FLOOR_PAIR_SECONDS, next(numbers)
                    )
                before = cpu.read(gunicorn_master)
                throughput, outcomes = await self.saturate(
                    large_session, operation, self.config.saturation_seconds, next(numbers)
                )
                self.measurements.cpu_use[operation.key] = cpu.CpuUse.between(
                    before, cpu.read(gunicorn_master), outcomes.answered
                )
                await self.settle(large_session)
                self.measurements.saturation[operation.key] = throughput
                self.measurements.saturation_errors[operation.key] = sum(outcomes.errors.values())
            small_operations = {operation.key: operation for operation in small_client.operations()}
            large_operations = {operation.key: operation for operation in operations}
            for key in GROWTH_OPERATIONS:
                if self.out_of_time():
                    self.measurements.skipped.append(f"growth {key}")
                    continue
                print(
                    f"  growth: {large_operations[key].label}, 1,000 vs {self.config.customers:,} customers ..."
                )
                pair = {}
                for label, session, operation in (
                    ("small", small_session, small_operations[key]),
                    ("large", large_session, large_operations[key]),
                ):
                    await self.warm_up(session, operation, next(numbers))
                    pair[label] = await self.fixed_rate(session, operation, next(numbers))
                    await self.settle(session)
                self.measurements.growth[key] = pair


def seed(database_url: str, *arguments: str) -> dict:
    return json.loads(manage(database_url, "seed_bench", "--json", *arguments))


def run() -> int:
    started = time.monotonic()
    load_before = round(os.getloadavg()[0], 1)
    config = Config.from_environment()
    large_name = database_name(config.database_url)
    small_name = f"{large_name}_small"
    small_url = database_url_named(config.database_url, small_name)
    print(
        f"make bench: PostgreSQL {config.database_url} (+ {small_name}), gunicorn on 127.0.0.1:{config.port}"
    )
    print(
        f"gunicorn: {config.workers} workers × {config.threads} threads (gthread) on {os.cpu_count()} cores; "
        f"saturation with {config.saturation_clients} clients"
    )
    servers = [
        Server(
            "large", config.database_url, config.port, redis_url_numbered(config.redis_url, LARGE_REDIS_DB)
        ),
        Server("small", small_url, config.port + 1, redis_url_numbered(config.redis_url, SMALL_REDIS_DB)),
    ]
    try:
        server_version = recreate_databases(config.database_url, [large_name, small_name])
        for server in servers:
            flush_redis(server.redis_url)
        for url in (config.database_url, small_url):
            manage(url, "migrate", "--noinput", "-v", "0")
        print(f"seed_bench: {SMALL_CUSTOMERS:,} customers into {small_name}")
        small_account = seed(
            small_url, "--customers", str(SMALL_CUSTOMERS), "--ledger-rows", str(SMALL_CUSTOMERS * 10)
        )
        print(
            f"seed_bench: {config.customers:,} customers, {config.ledger_rows:,} ledger rows into {large_name}"
        )
        large_account = seed(
            config.database_url,
            "--customers",
            str(config.customers),
            "--ledger-rows",
            str(config.ledger_rows),
        )
        RESULTS.mkdir(parents=True, exist_ok=True)
        ACCOUNTS_FILE.write_text(
            json.dumps(
                {
                    "large": {"database_url": config.database_url, "account": large_account},
                    "small": {"database_url": small_url, "account": small_account},
                }
            )
        )
        for server in servers:
            server.start(config)
        for server in servers:
            server.wait_ready()
        print("measuring:")
        bench = Bench(config, started)
        asyncio.run(bench.measure(servers[0], servers[1], large_account, small_account))
    except BenchError as error:
        print(f"\n{error}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            server.stop()
    context = report.Context.collect(
        config=config,
        server_version=server_version,
        seconds=time.monotonic() - started,
        load_before=load_before,
    )
    table = report.render(context, bench.measurements, seed_seconds=large_account["seconds"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table)
    (RESULTS / "latest.json").write_text(
        json.dumps(report.raw(context, bench.measurements, large_account["seconds"]), indent=2, default=str)
    )
    print()
    print(table)
    return 0


def _stop_on_terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    sys.exit(run())
