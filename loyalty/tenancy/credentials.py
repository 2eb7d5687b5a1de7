"""Generation and verification of the account secrets: store tokens and API secrets."""

import hashlib
import secrets

STORE_TOKEN_PREFIX = "st_"
API_KEY_PREFIX = "ak_"
API_SECRET_PREFIX = "sk_"
DISPLAY_PREFIX_LENGTH = 8


def new_store_token() -> str:
    return STORE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_hex(12)


def new_api_secret() -> str:
    return API_SECRET_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token: what the database keeps of a store token."""
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    """The start of a secret, enough for staff to recognise it, never enough to use it."""
    return secret[:DISPLAY_PREFIX_LENGTH]
