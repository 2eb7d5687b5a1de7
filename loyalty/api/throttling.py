"""Request rate limits, with rates read from settings at request time.

Every throttle counts clients by `client_address`: the socket's peer, unless the deployment
declares how many proxies it trusts in front (`API_TRUSTED_PROXY_COUNT`). A client can write
any `X-Forwarded-For` it likes, so trusting the header by default would give an attacker a
fresh budget per request.
"""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


def client_address(request) -> str:
    """The address a request is counted under.

    With N trusted proxies, each appends to `X-Forwarded-For` the address it received the
    request from, so the N-th entry from the right is the client as the outermost trusted
    proxy saw it; entries further left were written by the client itself.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.API_TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote_addr


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def get_ident(self, request):
        return client_address(request)

    def allow_request(self, request, view):
        # Rates may change at run time (tests, settings reload); parse them every time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class TokenEndpointThrottle(_SettingsRateThrottle):
    """Brute-force guard of the token endpoint, per client address."""

    scope = "auth_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiKeyThrottle(_SettingsRateThrottle):
    """Failed token requests per `api_key`, whatever address they come from.

    Addresses are cheap to change; the key is what a guesser aims at, so each key has its
    own budget of wrong secrets. A request takes a slot before its secret is checked and
    gives it back (`release`) when the secret was right: tills asking for tokens never use
    the budget, and simultaneous guesses cannot all pass the check before one is counted.

    Once the budget is spent, every request for the key is refused until the oldest failure
    leaves the window — the right secret included, or the refusal itself would tell which
    guess was right. Someone who knows only a key can therefore delay new tokens for it but
    never obtain one; tokens already issued keep working. Unknown keys are counted alike, so
    a 429 does not reveal which keys exist.
    """

    scope = "auth_token_api_key"

    def __init__(self, *, api_key: str) -> None:
        self.api_key = api_key
        super().__init__()

    def get_cache_key(self, request, view):
        # A digest: an api_key is client input of any characters; cache keys are not.
        digest = hashlib.sha256(self.api_key.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}

    def release(self) -> None:
        """Give back the slot this request took: its secret was right."""
        key, taken_at = getattr(self, "key", None), getattr(self, "now", None)
        if key is None or taken_at is None:
            return
        history = self.cache.get(key, [])
        if taken_at in history:
            history.remove(taken_at)
            self.cache.set(key, history, self.duration)


class CredentialThrottle(_SettingsRateThrottle):
    """Per API credential; subclasses name the scope."""

    def get_cache_key(self, request, view):
        client = getattr(request, "user", None)
        ident = client.pk if getattr(client, "is_authenticated", False) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
