"""`/api/v2/webhooks`: the account's endpoints, their secret shown once, their delivery log;
refusals named by field; another account's endpoints answered as missing."""

import pytest
from django.test import override_settings

from loyalty.outbox.webhooks.models import WebhookDelivery, WebhookEndpoint
from loyalty.outbox.webhooks.services import webhook_endpoint_create, webhook_event_record, webhooks_send_due
from tests.builders import V2
from tests.snapshots import database_rows

pytestmark = pytest.mark.django_db

WEBHOOKS = f"{V2}/webhooks"
NEW = {"url": "https://erp.example.com/hooks", "events": ["sale.recorded", "balance.redeemed"]}


def created(tenant, body=NEW) -> dict:
    response = tenant.v2.post(WEBHOOKS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def theirs(other_tenant):
    return webhook_endpoint_create(
        account=other_tenant.account, url="https://beta.example/secret-hooks", events=["sale.recorded"]
    ).endpoint


def test_an_endpoint_is_created_with_its_secret_shown_once(tenant, django_assert_num_queries):
    # The credential, then the insert (in the request's savepoint: 3).
    with django_assert_num_queries(4):
        body = created(tenant)

    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] == endpoint.secret
    assert body["secret_prefix"] == body["secret"][:12]
    assert {key: body[key] for key in ("id", "url", "events", "active")} == {
        "id": endpoint.pk,
        "url": "https://erp.example.com/hooks",
        "events": ["sale.recorded", "balance.redeemed"],
        "active": True,
    }
    assert endpoint.account == tenant.account
    shown = tenant.v2.get(f"{WEBHOOKS}/{endpoint.pk}").json()
    assert "secret" not in shown
    assert shown["secret_prefix"] == body["secret_prefix"]
    assert all("secret" not in listed for listed in tenant.v2.get(WEBHOOKS).json()["results"])


def test_http_to_localhost_is_accepted_for_a_receiver_under_development(tenant):
    for url in ("http://localhost:8000/hooks", "http://127.0.0.1/hooks", "http://[::1]:9000/h"):
        assert created(tenant, {"url": url, "events": ["sale.recorded"]})["url"] == url


def test_the_list_is_paginated_and_scoped(tenant, theirs, django_assert_num_queries):
    for index in range(3):
        created(tenant, {"url": f"https://erp.example.com/{index}", "events": ["voucher.used"]})

    # The credential, the count, the page.
    with django_assert_num_queries(3):
        page = tenant.v2.get(WEBHOOKS, {"page_size": 2}).json()

    assert page["count"] == 3
    assert [endpoint["url"] for endpoint in page["results"]] == [
        "https://erp.example.com/0",
        "https://erp.example.com/1",
    ]
    assert "beta.example" not in str(tenant.v2.get(WEBHOOKS, {"page_size": 100}).json())


def test_one_endpoint_costs_two_statements(tenant, django_assert_num_queries):
    endpoint_id = created(tenant)["id"]

    with django_assert_num_queries(2):
        response = tenant.v2.get(f"{WEBHOOKS}/{endpoint_id}")

    assert response.status_code == 200


def test_a_change_is_partial_and_shows_no_secret(tenant, django_assert_num_queries):
    first = created(tenant)

    # The credential, the endpoint, its update (in the request's savepoint: 3).
    with django_assert_num_queries(5):
        response = tenant.v2.patch(
            f"{WEBHOOKS}/{first['id']}", {"active": False, "events": ["voucher.used"]}, format="json"
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert "secret" not in body
    assert (body["active"], body["events"], body["url"]) == (False, ["voucher.used"], NEW["url"])
    assert WebhookEndpoint.objects.get().secret == first["secret"]


def test_rotate_secret_answers_the_new_secret_once(tenant, django_assert_num_queries):
    first = created(tenant)

    # The credential, the endpoint, the new secret (in the request's savepoint: 3).
    with django_assert_num_queries(5):
        response = tenant.v2.patch(f"{WEBHOOKS}/{first['id']}", {"rotate_secret": True}, format="json")

    body = response.json()
    assert response.status_code == 200, response.content
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != first["secret"]
    assert body["secret_prefix"] == body["secret"][:12]
    assert WebhookEndpoint.objects.get().secret == body["secret"]
    assert (
        "secret"
        not in tenant.v2.patch(f"{WEBHOOKS}/{first['id']}", {"rotate_secret": False}, format="json").json()
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://erp.example.com/hooks", "Use https"),
        ("ftp://erp.example.com/hooks", "Enter a valid URL"),
        ("erp.example.com/hooks", "Enter a valid URL"),
        ("https://user:pass@erp.example.com/hooks", "user name or password"),
        ("https://erp.example.com/" + "x" * 2000, "2000"),
        ("", "blank"),
    ],
)
def test_a_bad_url_is_a_400_naming_url_that_writes_nothing(tenant, url, message):
    before = database_rows()

    response = tenant.v2.post(WEBHOOKS, {"url": url, "events": ["sale.recorded"]}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["url"]
    assert message in response.json()["url"][0]
    assert database_rows() == before


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hooks",
        "https://192.168.1.10/hooks",
        "https://172.16.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:10.0.0.5]/hooks",
        "http://localhost:8000/hooks",
    ],
)
def test_a_private_loopback_or_link_local_address_is_refused_in_production(tenant, url):
    response = tenant.v2.post(WEBHOOKS, {"url": url, "events": ["sale.recorded"]}, format="json")

    assert response.status_code == 400, response.content
    assert "private, loopback or link-local" in response.json()["url"][0]
    assert not WebhookEndpoint.objects.exists()


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_public_address_is_accepted_in_production(tenant):
    # An address literal: nothing is resolved, nothing is sent.
    assert created(tenant, {"url": "https://93.184.215.14/hooks", "events": ["sale.recorded"]})["id"]


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_change_to_a_private_address_is_refused(tenant):
    endpoint = created(tenant, {"url": "https://93.184.215.14/hooks", "events": ["sale.recorded"]})

    response = tenant.v2.patch(f"{WEBHOOKS}/{endpoint['id']}", {"url": "https://10.1.2.3/x"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["url"]
    assert WebhookEndpoint.objects.get().url == "https://93.184.215.14/hooks"


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (["sale.recorded", "sale.exploded"], '"sale.exploded" is not an event type.'),
        ([], "This list may not be empty."),
        ("sale.recorded", 'Expected a list of items but got type "str".'),
        (None, "This field may not be null."),
    ],
)
def test_bad_events_are_a_400_naming_events(tenant, events, message):
    response = tenant.v2.post(WEBHOOKS, {"url": NEW["url"], "events": events}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["events"]
    assert message in str(response.json()["events"])
    assert not WebhookEndpoint.objects.exists()


def test_url_and_events_are_required(tenant):
    response = tenant.v2.post(WEBHOOKS, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"url", "events"}


@pytest.mark.parametrize(
    ("method", "suffix"),
    # The delivery log is read-only: no PATCH of it.
    [(method, "") for method in ("get", "patch", "head", "options")]
    + [(method, "/deliveries") for method in ("get", "head", "options")],
)
def test_another_accounts_endpoint_is_a_404_as_a_missing_one(tenant, theirs, method, suffix):
    send = getattr(tenant.v2, method)
    body = {"active": False, "rotate_secret": True} if method == "patch" else None

    foreign = (
        send(f"{WEBHOOKS}/{theirs.pk}{suffix}", body, format="json")
        if body
        else send(f"{WEBHOOKS}/{theirs.pk}{suffix}")
    )
    missing = (
        send(f"{WEBHOOKS}/987654321{suffix}", body, format="json")
        if body
        else send(f"{WEBHOOKS}/987654321{suffix}")
    )

    if method != "options":  # OPTIONS describes the route, the same for any id
        assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    theirs.refresh_from_db()
    assert theirs.active is True


def test_there_is_no_delete(tenant):
    endpoint = created(tenant)

    assert tenant.v2.delete(f"{WEBHOOKS}/{endpoint['id']}").status_code == 405
    assert WebhookEndpoint.objects.exists()


def test_without_a_token_it_is_a_401(anonymous):
    assert anonymous.get(WEBHOOKS).status_code == 401
    assert anonymous.post(WEBHOOKS, NEW, format="json").status_code == 401


# --- the delivery log ----------------------------------------------------------------------


def test_the_delivery_log_is_paginated_newest_first_and_filtered(tenant, theirs, django_assert_num_queries):
    mine = webhook_endpoint_create(
        account=tenant.account,
        url="http://127.0.0.1:9/never-listening",
        events=["sale.recorded", "voucher.used"],
    ).endpoint
    for index in range(3):
        webhook_event_record(
            account_id=tenant.account.pk,
            type="sale.recorded",
            occurred_at=mine.created_at,
            data={"sale_id": index},
        )
    webhook_event_record(
        account_id=tenant.account.pk,
        type="voucher.used",
        occurred_at=mine.created_at,
        data={"voucher_code": "X"},
    )
    webhook_event_record(
        account_id=theirs.account_id,
        type="sale.recorded",
        occurred_at=mine.created_at,
        data={"sale_id": 987654},
    )
    WebhookDelivery.objects.filter(account=tenant.account, event_type="voucher.used").update(status="sent")
    webhooks_send_due(max_batches=1)  # nothing listens: the sales are retried

    # The credential, the endpoint, the count, the page.
    with django_assert_num_queries(4):
        page = tenant.v2.get(f"{WEBHOOKS}/{mine.pk}/deliveries", {"page_size": 2}).json()

    assert page["count"] == 4
    first = page["results"][0]
    assert first["type"] == "voucher.used"
    assert first["payload"]["data"] == {"voucher_code": "X"}
    assert first["next_attempt_at"] is None
    retried = page["results"][1]
    assert (retried["type"], retried["status"], retried["attempts"]) == ("sale.recorded", "queued", 1)
    assert retried["event_id"].startswith("msg_")
    assert retried["last_status_code"] is None
    assert retried["last_error"].startswith("ConnectionRefusedError")
    assert retried["next_attempt_at"].endswith("Z")
    assert retried["payload"]["data"] == {"sale_id": 2}
    queued = tenant.v2.get(f"{WEBHOOKS}/{mine.pk}/deliveries", {"status": "queued"}).json()
    assert queued["count"] == 3
    assert tenant.v2.get(f"{WEBHOOKS}/{mine.pk}/deliveries", {"type": "voucher.used"}).json()["count"] == 1
    everything = tenant.v2.get(f"{WEBHOOKS}/{mine.pk}/deliveries", {"page_size": 100}).json()["results"]
    assert 987654 not in [delivery["payload"]["data"].get("sale_id") for delivery in everything]


def test_the_delivery_log_costs_the_same_for_5_and_100(tenant, django_assert_num_queries):
    mine = webhook_endpoint_create(account=tenant.account, url=NEW["url"], events=["sale.recorded"]).endpoint
    for index in range(100):
        webhook_event_record(
            account_id=tenant.account.pk,
            type="sale.recorded",
            occurred_at=mine.created_at,
            data={"sale_id": index},
        )

    assert tenant.v2.get(WEBHOOKS).status_code == 200  # the bearer's credential is then in memory
    for size in (5, 100):
        with django_assert_num_queries(3):
            assert (
                len(tenant.v2.get(f"{WEBHOOKS}/{mine.pk}/deliveries", {"page_size": size}).json()["results"])
                == size
            )


def test_a_bad_filter_is_a_400(tenant):
    mine = created(tenant)

    response = tenant.v2.get(f"{WEBHOOKS}/{mine['id']}/deliveries", {"status": "lost"})

    assert response.status_code == 400
    assert list(response.json()) == ["status"]
