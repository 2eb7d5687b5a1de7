"""A second process of the API, for `tests/loyalty/test_account_cache.py`.

Started as `python -m tests.loyalty.cache_peer '<CACHES as JSON>'` from the repository's root,
with the environment of `tests.concurrency.process_env()` (the test database). It answers a
line `{"ready": true}` once Django is set up, then serves one request per line read from
stdin, `{"method": "GET", "path": "/api/...", "headers": {...}, "body": <JSON or null>}`, with
Django's test client, and writes one line per answer: `{"status": 200, "body": <JSON or
null>, "queries": 3}`, `queries` being the SQL statements the request cost. Its default cache
is the one given (the test process's Redis): the two processes share the configuration
versions, and nothing else.
"""

import json
import sys


def answer_line(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def main() -> None:
    import django

    django.setup()

    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    with override_settings(CACHES=json.loads(sys.argv[1])):
        client = Client()
        answer_line({"ready": True})
        for line in sys.stdin:
            request = json.loads(line)
            body = request.get("body")
            with CaptureQueriesContext(connection) as queries:
                response = client.generic(
                    request["method"],
                    request["path"],
                    data=json.dumps(body) if body is not None else "",
                    content_type="application/json",
                    headers=request.get("headers") or {},
                )
            try:
                answer = response.json()
            except ValueError:  # not JSON: the status says enough
                answer = None
            answer_line(
                {"status": response.status_code, "body": answer, "queries": len(queries.captured_queries)}
            )


if __name__ == "__main__":
    main()
