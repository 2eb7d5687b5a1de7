"""Webhook secrets and signatures, the Standard Webhooks way.

A secret is `whsec_` and 32 random bytes in base64, as Standard Webhooks' libraries take
it. Each attempt is signed anew (its `webhook-timestamp` is the attempt's time): the
signature is `v1,` and the base64 HMAC-SHA256, under the secret's bytes, of
`"{webhook-id}.{webhook-timestamp}.{body}"` — computed by the `standardwebhooks` package,
so that a receiver verifying with it (or any Standard Webhooks library) agrees by
construction.
"""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
#: How much of a secret staff and integrators see after it was issued: enough to tell two
#: apart, never enough to sign.
HINT_LENGTH = len(SECRET_PREFIX) + 6


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_hint(secret: str) -> str:
    return secret[:HINT_LENGTH]


def signed_headers(*, secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt to post `body`, made at `at`."""
    timestamp = int(at.timestamp())
    signature = Webhook(secret).sign(
        msg_id=event_id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body
    )
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
