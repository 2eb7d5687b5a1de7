"""Where a webhook may be sent: https, or http to this machine; never, in production, to a
private, loopback or link-local address.

The same rules hold twice. When an endpoint is saved, its URL is checked and its host
resolved, so that a mistake is refused at once, naming `url`. When a delivery connects, the
host is resolved again and the connection goes to an address just checked: a name that
resolved to a public address when it was saved and to the metadata service or the database
later (DNS rebinding) is refused then, and never reached.
"""

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext

MAX_URL_LENGTH = 2000
#: Hosts that may be reached over plain http: this machine, for a receiver under development.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """The host resolves to an address a webhook may not reach."""


def is_public(address: IpAddress) -> bool:
    """Whether an address is one of the internet's: not private, loopback, link-local,
    multicast, reserved or unspecified (an IPv4 address written as IPv6 counts as itself)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolved(host: str, port: int) -> list[tuple[int, IpAddress]]:
    """Every address the host stands for (an address literal stands for itself), with its
    socket family; raises OSError when it resolves to none."""
    try:
        return [(socket.AF_INET6 if ":" in host else socket.AF_INET, ipaddress.ip_address(host))]
    except ValueError:
        pass
    return [
        (family, ipaddress.ip_address(str(address[0]).split("%", 1)[0]))
        for family, _, _, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    ]


def refused_addresses(host: str, port: int) -> list[str]:
    """The addresses of the host that a webhook may not reach (none when it does not resolve:
    the delivery resolves it again, and refuses it then if it must)."""
    try:
        addresses = resolved(host, port)
    except (OSError, UnicodeError):  # no such host, or a name no resolver can take
        return []
    return sorted({str(address) for _, address in addresses if not is_public(address)})


def _parts(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return parts


def webhook_url_problems(url: str) -> list[str]:
    """What is wrong with a webhook URL, as messages for the merchant; empty when it is fine."""
    if len(url) > MAX_URL_LENGTH:
        return [gettext("At most %(max)d characters.") % {"max": MAX_URL_LENGTH}]
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return [gettext("Enter a valid URL, such as https://example.com/webhooks.")]
    parts = _parts(url)
    if parts is None or not parts.hostname:
        return [gettext("Enter a valid URL, such as https://example.com/webhooks.")]
    host = parts.hostname
    if parts.scheme != "https" and host not in LOCAL_HOSTS:
        return [gettext("Use https (plain http is accepted only for localhost, 127.0.0.1 and ::1).")]
    if parts.username is not None or parts.password is not None:
        return [gettext("A webhook URL cannot carry a user name or password.")]
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        refused = refused_addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        if refused:
            return [
                gettext(
                    "%(host)s resolves to a private, loopback or link-local address (%(addresses)s), "
                    "which a webhook may not reach."
                )
                % {"host": host, "addresses": ", ".join(refused)}
            ]
    return []


def validate_webhook_url(url: str) -> None:
    """The model field's and the API's validator: a `ValidationError` naming what is wrong.

    A URL over the limit is left to the field's own `max_length`, which says so once."""
    if len(url) > MAX_URL_LENGTH:
        return
    problems = webhook_url_problems(url)
    if problems:
        raise ValidationError(problems, code="invalid")


def open_connection(host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the host, to an address checked just before it is used.

    With `WEBHOOK_ALLOW_PRIVATE_URLS` off, a host with any address that is not public is
    refused (`RefusedAddress`) before anything is sent: a name may not point at the
    database and the internet at once."""
    try:
        addresses = resolved(host, port)
    except UnicodeError as error:
        raise OSError(f"{host} cannot be resolved: {error}") from None
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        refused = sorted({str(address) for _, address in addresses if not is_public(address)})
        if refused:
            raise RefusedAddress(
                f"{host} resolves to an address a webhook may not reach ({', '.join(refused)})"
            )
    failure: OSError = OSError(f"{host} resolves to no address")
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((str(address), port))
        except OSError as error:
            sock.close()
            failure = error
            continue
        return sock
    raise failure
