"""The routes under `/api/`, read from the URLconf, so that a matrix test covers a new
endpoint without anyone remembering to add it."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from loyalty.api.authentication import PosAuthentication

DATA_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WRITE_METHODS = ("POST", "PUT", "PATCH")
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    """One API path and the data methods its view answers."""

    path: str  # e.g. "/api/v2/customers/{pk}/wallet"
    methods: tuple[str, ...]
    view_class: type

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)\}", self.path))

    @property
    def is_pos(self) -> bool:
        return PosAuthentication in getattr(self.view_class, "authentication_classes", ())

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.view_class, "authentication_classes", ()))

    def url(self, **values) -> str:
        return self.path.format(**{name: values[name] for name in self.parameters})

    def __str__(self) -> str:
        return f"{'|'.join(self.methods)} {self.path}"


def _template(pattern) -> str:
    text = str(pattern).removeprefix("^").removesuffix("$")
    return _CONVERTER.sub(r"{\1}", _NAMED_GROUP.sub(r"{\1}", text))


def _walk(patterns, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _template(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + _template(entry.pattern), entry.callback


def _methods(callback) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return tuple(method for method in DATA_METHODS if method.lower() in actions)
    view_class = callback.cls
    return tuple(method for method in DATA_METHODS if hasattr(view_class, method.lower()))


def api_routes() -> list[Route]:
    """Every endpoint under `/api/` (the catch-all 404 excluded), in URLconf order."""
    routes = []
    for path, callback in _walk(get_resolver().url_patterns, "/"):
        view_class = getattr(callback, "cls", None)
        if not path.startswith("/api/") or view_class is None:
            continue
        routes.append(Route(path=path, methods=_methods(callback), view_class=view_class))
    return routes


def routes_with_parameters() -> list[Route]:
    return [route for route in api_routes() if route.parameters]


def authenticated_routes() -> list[Route]:
    return [route for route in api_routes() if route.is_authenticated]
