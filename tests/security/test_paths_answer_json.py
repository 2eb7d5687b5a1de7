"""Every answer under `/api/` is JSON, whatever bytes its path holds.

The routes come from the URLconf, so a new route is covered without anyone listing it.
Every path parameter of every route is replaced by values that name nothing: percent-encoded
newlines, carriage returns, NUL and the other control characters, DEL, and invalid UTF-8 (a
lone byte, a broken sequence, overlong forms, a surrogate, a code point past U+10FFFF, a
sequence cut short), alone and around a digit. Each is sent with every method the route
answers, authenticated in the route's dialect, with DEBUG off and on: Django's own error
pages are HTML only under DEBUG (`make run`), so a path that slips past the API's routes
shows there. The answer must be JSON and never a 5xx.

The same bytes after any route's path, or in place of a whole segment, name no endpoint:
a JSON 404.
"""

import json

import pytest
from django.test import override_settings

from tests.routes import Route, api_routes, routes_with_parameters

pytestmark = pytest.mark.django_db

# As they travel in a URL: the test client percent-decodes them the way gunicorn does.
NASTY = {
    "newline": "%0A",
    "digit and newline": "1%0A",  # a regular expression's `$` matches before a final newline
    "newline and digit": "%0A1",
    "CR LF inside": "1%0D%0A1",
    "NUL": "%00",
    "digit and NUL": "1%00",
    "controls": "%01%08%09%0B%0C%1B%1F",
    "DEL": "1%7F",
    "lone 0xFF": "%FF",
    "lone 0xFE inside": "1%FE1",
    "broken sequence": "%C3%28",
    "overlong slash": "%C0%AF",
    "overlong three bytes": "%E0%80%AF",
    "surrogate": "%ED%A0%80",
    "past U+10FFFF": "%F4%90%80%80",
    "cut short": "1%E2%82",
    "all together": "%0A%00%FF%7F",
}
DEBUG = (False, True)
# What a parameter not under test holds: a plausible identifier of nothing.
PLAIN = "1"


def client_for(route: Route, tenant, anonymous):
    if not route.is_authenticated:
        return anonymous
    return tenant.pos if route.is_pos else tenant.v2


def send(client, method: str, url: str):
    if method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return getattr(client, method.lower())(url)
    return getattr(client, method.lower())(url, {}, format="json")


def problem(method: str, url: str, debug: bool, response, status: int | None = None) -> str | None:
    """What is wrong with the answer, or None."""
    where = f"{method} {url} (DEBUG={debug}) → {response.status_code}"
    content_type = response.get("Content-Type", "")
    if not content_type.startswith("application/json"):
        return f"{where}: {content_type or 'no Content-Type'}: {response.content[:80]!r}"
    if method != "HEAD":
        try:
            json.loads(response.content)
        except ValueError:
            return f"{where}: the body is not JSON: {response.content[:80]!r}"
    if response.status_code >= 500:
        return f"{where}: a server error: {response.content[:200]!r}"
    if status is not None and response.status_code != status:
        return f"{where}: expected {status}: {response.content[:200]!r}"
    return None


def test_the_urlconf_has_routes_with_parameters_of_each_kind():
    names = {name for route in routes_with_parameters() for name in route.parameters}

    assert {"pk", "code", "barcode", "document"} <= names


@pytest.mark.parametrize("route", routes_with_parameters(), ids=str)
def test_every_path_parameter_with_nasty_bytes_answers_json(route, tenant, anonymous):
    client = client_for(route, tenant, anonymous)
    problems = []
    for debug in DEBUG:
        with override_settings(DEBUG=debug):
            for name in route.parameters:
                for value in NASTY.values():
                    url = route.url(**{other: PLAIN for other in route.parameters} | {name: value})
                    for method in (*route.methods, "HEAD", "OPTIONS"):
                        problems.append(problem(method, url, debug, send(client, method, url)))

    problems = [found for found in problems if found]
    assert not problems, "\n".join(problems)


def filled(route: Route) -> str:
    return route.url(**dict.fromkeys(route.parameters, PLAIN))


@pytest.mark.parametrize("route", api_routes(), ids=str)
def test_nasty_bytes_after_any_route_name_no_endpoint(route, tenant, anonymous):
    client = client_for(route, tenant, anonymous)
    problems = []
    for debug in DEBUG:
        with override_settings(DEBUG=debug):
            for suffix in ("%0A", "/%0A", "/%00", "%FF", "/%C0%AF", "/x%0A/y"):
                url = filled(route) + suffix
                for method in dict.fromkeys(("GET", route.methods[-1])):
                    problems.append(problem(method, url, debug, send(client, method, url), status=404))

    problems = [found for found in problems if found]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("debug", DEBUG)
@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/",
        "/api/%0A",
        "/api/%00",
        "/api/%FF",
        "/api/v2/%0A",
        "/api/v2%0A",
        "/api/v1/accounts/integrations/%0A",
        "/api/v1/accounts/integrations/%0A/store",
        "/api/%0A/v2/account",
    ],
)
def test_paths_that_name_no_endpoint_answer_a_json_404(anonymous, path, debug):
    with override_settings(DEBUG=debug):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            found = problem(method, path, debug, send(anonymous, method, path), status=404)
            assert found is None, found
