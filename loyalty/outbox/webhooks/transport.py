"""One HTTP POST of a webhook, with the standard library's HTTP client.

The connection goes to an address checked just before (`addresses.open_connection`), over
TLS verified against the system's certificates for https; redirects are not followed (a
3xx is an answer like any other non-2xx, retried later), and each socket operation gives
up after `timeout` seconds. Nothing here raises: every outcome is an `Answer`.
"""

import http.client
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from loyalty.outbox.webhooks.addresses import open_connection

#: What of a refusal's body is kept as the attempt's error.
ERROR_BODY_CHARACTERS = 300
USER_AGENT = "loyalty-webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What one POST came to: the receiver's status code, or no code and why."""

    status_code: int | None
    error: str
    duration_ms: int
    #: The wait a 429 asked for (`Retry-After`), if it said one.
    retry_after: timedelta | None = None

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = open_connection(self.host, self.port, self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPConnection):
    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int | None, *, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout)
        self.tls = context

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(
            open_connection(self.host, self.port, self.timeout), server_hostname=self.host
        )


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as a wait: seconds, or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url` with `headers`; the answer, whatever happens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _CheckedHTTPSConnection(
            host, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _CheckedHTTPConnection(host, parts.port, timeout=timeout)
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        status = response.status
        excerpt = response.read(ERROR_BODY_CHARACTERS * 4).decode("utf-8", "replace")[:ERROR_BODY_CHARACTERS]
        wait = retry_after(response.getheader("Retry-After"), datetime.now(UTC)) if status == 429 else None
    except TimeoutError:
        return Answer(None, f"Timed out after {timeout:g} s", elapsed())
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{error.__class__.__name__}: {error}"[:1000], elapsed())
    finally:
        connection.close()
    refusal = "" if 200 <= status < 300 else f"HTTP {status}: {excerpt}".strip()
    return Answer(status, refusal, elapsed(), wait)
