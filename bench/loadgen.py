"""HTTP load on one operation at a time, and the arithmetic of its figures.

Two ways of driving a server:

- **Open loop** (`open_loop`): requests leave on a fixed schedule, whatever the answers
  do, and each latency counts from the moment its request was *scheduled*. A slow
  answer therefore cannot hide the requests queued behind it (no coordinated
  omission): if the server stalls for a second, every request due in that second shows
  the wait. This gives p50 / p95 / p99 / max at a fixed offered rate.
- **Closed loop** (`closed_loop`): a fixed number of clients send back to back for a
  fixed time; the successful answers completed per second are the throughput at
  saturation.

Only the aiohttp client and the standard library are used: no Django, so this module
runs in a process of its own, apart from the server it measures.
"""

import asyncio
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


RequestMaker = Callable[[int], Request]


@dataclass
class Outcomes:
    """What came back: latencies of successes (seconds), completion times, and errors."""

    latencies: list[float] = field(default_factory=list)
    completed_at: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    sent: int = 0
    max_send_lag: float = 0.0

    def record(self, *, scheduled: float, finished: float, error: str | None) -> None:
        if error is None:
            self.latencies.append(finished - scheduled)
            self.completed_at.append(finished)
        else:
            self.errors[error] += 1

    @property
    def answered(self) -> int:
        """Requests the server answered, successes and HTTP errors alike (not those that
        failed on the way: refused, reset, timed out)."""
        return len(self.latencies) + sum(
            count for kind, count in self.errors.items() if kind.startswith("HTTP ")
        )


@dataclass(frozen=True)
class LatencySummary:
    """Milliseconds at a fixed offered rate."""

    count: int
    errors: int
    p50: float
    p95: float
    p99: float
    max: float


def send_offsets(rate: float, duration: float) -> list[float]:
    """When each request of an open-loop run leaves, in seconds after the run starts.

    `rate × duration` requests (rounded), evenly spaced by `1 / rate`, the first at 0.
    """
    if rate <= 0 or duration <= 0:
        return []
    return [index / rate for index in range(round(rate * duration))]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with `fraction` of all at or below it."""
    if not sorted_values:
        return math.nan
    if not 0 < fraction <= 1:
        raise ValueError("fraction is in (0, 1]")
    rank = math.ceil(round(fraction * len(sorted_values), 9))
    return sorted_values[max(rank, 1) - 1]


def summarize(outcomes: Outcomes) -> LatencySummary:
    values = sorted(outcomes.latencies)

    def ms(value: float) -> float:
        return value * 1000

    return LatencySummary(
        count=len(values),
        errors=sum(outcomes.errors.values()),
        p50=ms(percentile(values, 0.50)),
        p95=ms(percentile(values, 0.95)),
        p99=ms(percentile(values, 0.99)),
        max=ms(values[-1]) if values else math.nan,
    )


def throughput(completed_at: Sequence[float], *, start: float, duration: float) -> float:
    """Successful answers per second that completed within `[start, start + duration]`."""
    if duration <= 0:
        raise ValueError("duration must be positive")
    end = start + duration
    return sum(1 for moment in completed_at if start <= moment <= end) / duration


async def _send(
    session: aiohttp.ClientSession, request: Request, scheduled: float, outcomes: Outcomes
) -> None:
    loop = asyncio.get_running_loop()
    error = None
    try:
        async with session.request(
            request.method, request.path, data=request.body, headers=dict(request.headers)
        ) as response:
            await response.read()
            if response.status >= 300:
                error = f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError) as exception:
        error = type(exception).__name__
    outcomes.record(scheduled=scheduled, finished=loop.time(), error=error)


async def open_loop(
    session: aiohttp.ClientSession,
    make_request: RequestMaker,
    *,
    rate: float,
    duration: float,
    first_index: int = 0,
) -> Outcomes:
    """Send `rate` requests a second for `duration` seconds, on schedule, and await them all.

    Request numbers (what `make_request` is given) start at `first_index`.
    """
    loop = asyncio.get_running_loop()
    outcomes = Outcomes()
    start = loop.time() + 0.05
    pending = set()
    for index, offset in enumerate(send_offsets(rate, duration)):
        scheduled = start + offset
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        outcomes.max_send_lag = max(outcomes.max_send_lag, loop.time() - scheduled)
        task = asyncio.create_task(_send(session, make_request(first_index + index), scheduled, outcomes))
        pending.add(task)
        task.add_done_callback(pending.discard)
        outcomes.sent += 1
    if pending:
        await asyncio.gather(*pending)
    return outcomes


async def closed_loop(
    session: aiohttp.ClientSession,
    make_request: RequestMaker,
    *,
    concurrency: int,
    duration: float,
    first_index: int = 0,
) -> tuple[Outcomes, float]:
    """`concurrency` clients sending back to back for `duration` seconds.

    Returns the outcomes (latencies from each request's own send) and the throughput.
    """
    loop = asyncio.get_running_loop()
    outcomes = Outcomes()
    start = loop.time()
    deadline = start + duration
    counter = iter(range(first_index, first_index + 10**9))

    async def client() -> None:
        while loop.time() < deadline:
            outcomes.sent += 1
            await _send(session, make_request(next(counter)), loop.time(), outcomes)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return outcomes, throughput(outcomes.completed_at, start=start, duration=duration)


def new_session(base_url: str, *, timeout: float) -> aiohttp.ClientSession:
    """A client session on the server, without a cap on connections (an open loop needs
    one per request in flight)."""
    return aiohttp.ClientSession(
        base_url=base_url,
        connector=aiohttp.TCPConnector(limit=0, force_close=False),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )
