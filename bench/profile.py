"""`python -m bench.profile OPERATION` (`make profile OP=...`): where one operation's time goes.

It replays the benchmark's requests of one operation in this process, through Django's
full request handling (middleware, DRF, serializers, ORM, psycopg) against the database
`make bench` left behind, under pyinstrument, and prints the call tree; the interactive
HTML goes to `bench/results/profile-<operation>.html`. Run `make bench` first: it keeps
the large account's credentials in `bench/results/accounts.json`.
"""

import argparse
import json
import os
import sys
import time

from bench.operations import OPERATION_LABELS, BenchClient
from bench.run import ACCOUNTS_FILE, LARGE_REDIS_DB
from bench.stack import RESULTS, ROOT, redis_url_numbered, server_environment


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("operation", choices=sorted(OPERATION_LABELS))
    parser.add_argument(
        "--requests", type=int, default=300, help="Profiled requests (after as many to warm up)."
    )
    arguments = parser.parse_args()
    if not ACCOUNTS_FILE.exists():
        print(f"{ACCOUNTS_FILE} is missing: run `make bench` first.", file=sys.stderr)
        return 2
    accounts = json.loads(ACCOUNTS_FILE.read_text())
    redis_url = redis_url_numbered(
        os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"), LARGE_REDIS_DB
    )
    os.environ.update(server_environment(accounts["large"]["database_url"], redis_url))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    account = accounts["large"]["account"]
    client = Client(SERVER_NAME="127.0.0.1")
    token = client.post(
        "/api/v2/auth/token",
        {"api_key": account["api_key"], "api_secret": account["api_secret"]},
        content_type="application/json",
    ).json()["access_token"]
    requests = BenchClient(account, token, run_tag=f"profile{int(time.time())}")
    operation = {operation.key: operation for operation in requests.operations()}[arguments.operation]

    def send(index: int) -> None:
        request = operation.make_request(index)
        headers = dict(request.headers)
        content_type = headers.pop("Content-Type", "application/json")
        response = client.generic(
            request.method, request.path, request.body or b"", content_type=content_type, headers=headers
        )
        if response.status_code >= 300:
            raise SystemExit(
                f"{request.method} {request.path} answered {response.status_code}: {response.content[:300]}"
            )

    for index in range(arguments.requests):
        send(index)
    profiler = Profiler(interval=0.0005)
    started, cpu_started = time.perf_counter(), time.process_time()
    with profiler:
        for index in range(arguments.requests, 2 * arguments.requests):
            send(index)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"{operation.label}: {arguments.requests} requests in {elapsed:.2f} s, "
        f"{elapsed / arguments.requests * 1000:.2f} ms each in one process "
        f"({cpu / arguments.requests * 1000:.2f} ms of its CPU, profiler included)"
    )
    print(profiler.output_text(unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"profile-{arguments.operation}.html").write_text(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
