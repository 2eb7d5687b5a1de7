"""The load generator's arithmetic: schedules, percentiles, throughput, and what it records."""

import asyncio
import itertools
import math

import aiohttp
import pytest

from bench import loadgen
from bench.loadgen import Outcomes, Request


def test_an_open_loop_sends_rate_times_duration_requests_evenly_spaced():
    offsets = loadgen.send_offsets(100, 2)

    assert len(offsets) == 200
    assert offsets[0] == 0
    assert offsets[1] == pytest.approx(0.01)
    assert offsets[-1] == pytest.approx(1.99)
    assert all(later - earlier == pytest.approx(0.01) for earlier, later in itertools.pairwise(offsets))


@pytest.mark.parametrize(("rate", "duration", "count"), [(50, 12, 600), (100, 0.1, 10), (3, 1, 3), (0, 5, 0)])
def test_the_schedule_has_a_request_per_period(rate, duration, count):
    assert len(loadgen.send_offsets(rate, duration)) == count


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.5, 50), (0.95, 95), (0.99, 99), (1.0, 100), (0.001, 1)]
)
def test_percentiles_take_the_nearest_rank(fraction, expected):
    values = [float(value) for value in range(1, 101)]

    assert loadgen.percentile(values, fraction) == expected


def test_the_p99_of_1200_samples_is_the_1188th():
    values = list(range(1, 1201))

    assert loadgen.percentile(values, 0.99) == 1188
    assert loadgen.percentile(values, 0.95) == 1140


def test_a_percentile_of_one_sample_is_that_sample_and_of_none_is_nan():
    assert loadgen.percentile([7.0], 0.99) == 7.0
    assert math.isnan(loadgen.percentile([], 0.5))
    with pytest.raises(ValueError, match="fraction"):
        loadgen.percentile([1.0], 0)


def test_the_summary_is_in_milliseconds_and_counts_errors():
    outcomes = Outcomes(latencies=[0.001 * value for value in range(1, 101)])
    outcomes.errors["HTTP 500"] = 3

    summary = loadgen.summarize(outcomes)

    assert summary.count == 100
    assert summary.errors == 3
    assert (summary.p50, summary.p95, summary.p99, summary.max) == pytest.approx((50, 95, 99, 100))


def test_throughput_counts_only_answers_completed_within_the_window():
    completed = [10.0, 10.5, 11.0, 11.9, 12.0, 12.1, 9.9]

    assert loadgen.throughput(completed, start=10.0, duration=2.0) == 2.5
    with pytest.raises(ValueError, match="positive"):
        loadgen.throughput(completed, start=0, duration=0)


def test_a_latency_counts_from_the_scheduled_send_not_the_actual_one():
    outcomes = Outcomes()

    outcomes.record(scheduled=100.0, finished=100.25, error=None)
    outcomes.record(scheduled=100.0, finished=100.5, error="HTTP 503")

    assert outcomes.latencies == [0.25]
    assert outcomes.completed_at == [100.25]
    assert outcomes.errors == {"HTTP 503": 1}


class FakeResponse:
    def __init__(self, status):
        self.status = status

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def read(self):
        return b"{}"


class FakeSession:
    """Answers every request at once: 200, except those whose path says otherwise."""

    def __init__(self):
        self.sent = []

    def request(self, method, path, data=None, headers=None):
        self.sent.append((method, path))
        if path == "/refused":
            raise aiohttp.ClientConnectionError("refused")
        return FakeResponse(int(path.rsplit("/", 1)[-1]) if path.startswith("/status/") else 200)


def test_an_open_loop_sends_its_schedule_numbered_from_the_first_index():
    session = FakeSession()
    numbers = []

    def make_request(index):
        numbers.append(index)
        return Request("GET", "/api/health")

    outcomes = asyncio.run(loadgen.open_loop(session, make_request, rate=200, duration=0.1, first_index=500))

    assert numbers == list(range(500, 520))
    assert outcomes.sent == len(session.sent) == 20
    assert len(outcomes.latencies) == 20
    assert not outcomes.errors


def test_a_scheduled_request_that_waited_counts_the_wait():
    session = FakeSession()

    async def send_late():
        loop = asyncio.get_running_loop()
        outcomes = Outcomes()
        await loadgen._send(session, Request("GET", "/api/health"), loop.time() - 1.0, outcomes)
        return outcomes

    assert asyncio.run(send_late()).latencies[0] >= 1.0


def test_errors_are_counted_by_status_and_by_exception():
    session = FakeSession()
    paths = ["/status/500", "/status/429", "/refused", "/status/201"]

    outcomes = asyncio.run(
        loadgen.open_loop(session, lambda index: Request("POST", paths[index % 4]), rate=400, duration=0.02)
    )

    assert outcomes.errors == {"HTTP 500": 2, "HTTP 429": 2, "ClientConnectionError": 2}
    assert len(outcomes.latencies) == 2


class SlowSession(FakeSession):
    """Each answer takes a few milliseconds; counts the requests in flight."""

    def __init__(self):
        super().__init__()
        self.in_flight = 0
        self.most_in_flight = 0

    def request(self, method, path, data=None, headers=None):
        self.sent.append((method, path))
        return SlowResponse(self)


class SlowResponse(FakeResponse):
    def __init__(self, session):
        super().__init__(200)
        self.session = session

    async def __aenter__(self):
        self.session.in_flight += 1
        self.session.most_in_flight = max(self.session.most_in_flight, self.session.in_flight)
        await asyncio.sleep(0.005)
        self.session.in_flight -= 1
        return self


def test_a_closed_loop_keeps_exactly_its_clients_busy_until_the_deadline():
    session = SlowSession()

    outcomes, throughput = asyncio.run(
        loadgen.closed_loop(
            session, lambda index: Request("GET", f"/item/{index}"), concurrency=3, duration=0.1
        )
    )

    assert session.most_in_flight == 3
    assert outcomes.sent == len(session.sent) == len(outcomes.latencies) > 3
    assert 0 < throughput * 0.1 <= outcomes.sent


def test_the_requests_answered_are_the_successes_and_the_http_errors():
    outcomes = Outcomes()
    for error in (None, None, None, "HTTP 500", "HTTP 429", "ClientConnectionError", "TimeoutError"):
        outcomes.record(scheduled=1.0, finished=1.01, error=error)

    assert outcomes.answered == 5
