"""Throttling keyed so that nothing a client writes buys more attempts: the client address
comes from the socket unless trusted proxies are declared, and the token endpoint also
counts failed attempts per api_key from every address."""

import pytest
from django.test import RequestFactory, override_settings

from loyalty.api.throttling import TokenEndpointThrottle
from loyalty.tenancy.services import credential_set_active
from tests.builders import V2
from tests.routes import api_routes

pytestmark = pytest.mark.django_db

GENEROUS = "1000/min"
PER_ADDRESS = {"auth_token": "3/min", "auth_token_api_key": GENEROUS, "voucher_validate": GENEROUS}
PER_KEY = {"auth_token": GENEROUS, "auth_token_api_key": "3/min", "voucher_validate": GENEROUS}


def post_token(client, api_key, api_secret, **headers):
    return client.post(
        f"{V2}/auth/token", {"api_key": api_key, "api_secret": api_secret}, format="json", **headers
    )


def assert_throttled(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "throttled"


@override_settings(API_THROTTLE_RATES=PER_ADDRESS, API_TRUSTED_PROXY_COUNT=0)
def test_a_rotating_x_forwarded_for_buys_no_attempts(anonymous, merchant):
    responses = [
        post_token(
            anonymous,
            merchant.credential.api_key,
            "sk_guess",
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        )
        for attempt in range(5)
    ]

    assert [response.status_code for response in responses] == [401, 401, 401, 429, 429]
    assert_throttled(responses[-1])


@override_settings(API_THROTTLE_RATES=PER_ADDRESS, API_TRUSTED_PROXY_COUNT=0)
def test_without_trusted_proxies_each_socket_address_has_its_own_budget(anonymous, merchant):
    def statuses(remote_addr):
        return [
            post_token(
                anonymous, merchant.credential.api_key, "sk_guess", REMOTE_ADDR=remote_addr
            ).status_code
            for _ in range(4)
        ]

    assert statuses("192.0.2.10") == [401, 401, 401, 429]
    assert statuses("192.0.2.11") == [401, 401, 401, 429]


@pytest.mark.parametrize(
    ("proxies", "forwarded"),
    [
        # The client wrote everything left of what the first trusted proxy appended.
        (1, "198.51.100.{attempt}, {client}"),
        (2, "198.51.100.{attempt}, {client}, 10.0.0.1"),
    ],
)
def test_behind_trusted_proxies_the_address_they_saw_is_the_client(anonymous, merchant, proxies, forwarded):
    def statuses(client):
        return [
            post_token(
                anonymous,
                merchant.credential.api_key,
                "sk_guess",
                REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR=forwarded.format(attempt=attempt, client=client),
            ).status_code
            for attempt in range(4)
        ]

    with override_settings(API_THROTTLE_RATES=PER_ADDRESS, API_TRUSTED_PROXY_COUNT=proxies):
        first, second = statuses("203.0.113.7"), statuses("203.0.113.8")

    assert first == [401, 401, 401, 429]
    assert second == [401, 401, 401, 429]


@override_settings(API_THROTTLE_RATES=PER_KEY)
def test_failures_against_one_api_key_are_counted_from_every_address(anonymous, merchant):
    def attempt(secret, n):
        return post_token(
            anonymous,
            merchant.credential.api_key,
            secret,
            REMOTE_ADDR=f"192.0.2.{n}",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )

    statuses = [attempt("sk_guess", n).status_code for n in range(5)]
    right_secret_while_locked = attempt(merchant.api_secret, 99)

    assert statuses == [401, 401, 401, 429, 429]
    assert_throttled(right_secret_while_locked)


@override_settings(API_THROTTLE_RATES=PER_KEY)
def test_requests_with_the_right_secret_never_use_the_key_budget(anonymous, merchant):
    key = merchant.credential.api_key

    successes = [post_token(anonymous, key, merchant.api_secret).status_code for _ in range(5)]
    failures = [post_token(anonymous, key, "sk_guess").status_code for _ in range(4)]

    assert successes == [200] * 5
    assert failures == [401, 401, 401, 429]


@override_settings(API_THROTTLE_RATES=PER_KEY)
def test_a_deactivated_credential_with_the_right_secret_is_no_failed_guess(anonymous, merchant):
    credential_set_active(credential=merchant.credential, active=False)
    key = merchant.credential.api_key

    refusals = [post_token(anonymous, key, merchant.api_secret).json()["code"] for _ in range(4)]

    assert refusals == ["credential_inactive"] * 4


@override_settings(API_THROTTLE_RATES=PER_KEY)
def test_the_key_lockout_spares_other_keys_and_treats_unknown_keys_alike(anonymous, merchant, other_merchant):
    unknown = [post_token(anonymous, "ak_does_not_exist", "sk_guess").status_code for _ in range(4)]
    known = [post_token(anonymous, merchant.credential.api_key, "sk_guess").status_code for _ in range(4)]
    other = post_token(anonymous, other_merchant.credential.api_key, other_merchant.api_secret)

    # The same sequence whether or not the key exists: a 429 does not reveal it either.
    assert unknown == known == [401, 401, 401, 429]
    assert other.status_code == 200


def _throttle_classes():
    classes = {TokenEndpointThrottle}
    for route in api_routes():
        classes.update(getattr(route.view_class, "throttle_classes", ()))
        for action in getattr(route.view_class, "get_extra_actions", lambda: [])():
            classes.update(action.kwargs.get("throttle_classes", ()))
    return classes


@pytest.mark.parametrize("proxies", [0, 1])
def test_every_throttle_counts_the_client_address_not_the_header(proxies):
    classes = _throttle_classes()
    request = RequestFactory().post(
        "/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7"
    )

    with override_settings(API_TRUSTED_PROXY_COUNT=proxies):
        idents = {throttle_class.__name__: throttle_class().get_ident(request) for throttle_class in classes}

    expected = "192.0.2.10" if proxies == 0 else "203.0.113.7"
    assert {"TokenEndpointThrottle", "VoucherValidateThrottle"} <= set(idents)
    assert idents == dict.fromkeys(idents, expected)
