"""Request rate limits, with rates read from settings at request time."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

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


class CredentialThrottle(_SettingsRateThrottle):
    """Per API credential; subclasses name the scope."""

    def get_cache_key(self, request, view):
        client = getattr(request, "user", None)
        ident = client.pk if getattr(client, "is_authenticated", False) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
