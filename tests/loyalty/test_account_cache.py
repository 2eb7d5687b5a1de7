"""The account's configuration kept in process memory (`loyalty.tenancy.cache`): every write
path renews the account's version, so the next request uses the new value; staleness is
bounded when a write sends no signal; and a second process sharing Redis sees each change.

Each cached thing is first read by a request (the second of two identical requests costs
fewer queries: it is served from memory), then changed through the admin (the real admin
URLs, a logged-in staff user or superuser) and, where the API offers it, through the API;
the next request must use the new value:

- the credential and the store behind the tokens (admin only: the API has no endpoint for
  them): deactivated, a new secret, a new store token;
- the account: deactivated (superuser, admin), its settings (admin and `PATCH /account`);
- the rules in force (admin and `/rules`), a rule's stores (the many-to-many links);
- the message templates (admin) and the webhook endpoints (admin and `/webhooks`).

Then the bound on staleness: a change written with `QuerySet.update()` sends no signal and
keeps the version, so it is seen only once what was kept is older than
`ACCOUNT_CACHE_SECONDS` (which is why services that write with `update()` call
`account_config_changed`); nothing kept is used when the shared cache cannot be read.

Last, two processes (PostgreSQL and Redis: a second API process started by the test,
`tests/loyalty/cache_peer.py`, serving requests on the same database with the same Redis):
what the test process changes through the admin and the API and commits is used by the
other process's next request, including a change whose first renewal the other process
read before the commit.
"""

import itertools
import json
import queue
import re
import subprocess
import sys
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from customers.services import customer_create, wallet_credit
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create, rule_scope_set
from loyalty.outbox.models import MessageTemplate
from loyalty.outbox.services import message_template_create
from loyalty.outbox.webhooks.models import WebhookDelivery, WebhookEndpoint
from loyalty.outbox.webhooks.services import webhook_endpoint_create
from loyalty.tenancy import cache as account_cache
from loyalty.tenancy.models import ApiCredential, Store
from loyalty.tenancy.services import store_create
from tests.builders import POS, V2
from tests.concurrency import process_env
from tests.sales.builders import purchase

pytestmark = pytest.mark.django_db

CPF = "53933515009"
# The seed purchase: 24.00, 15:10 in the account's time zone. A 5% rule earns 1.20 on it.
CASHBACK_AT_5 = 1.2
HOOK_URL = "https://erp.example.com/hooks"
_receipts = itertools.count(1)


# --- requests -------------------------------------------------------------------------------


def queries_of(send):
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return len(captured.captured_queries), response


def warm(send) -> None:
    """Send a request twice: the second is served from what the first kept in memory."""
    cold, first = queries_of(send)
    again, second = queries_of(send)
    assert first.status_code < 300, first.content
    assert second.status_code < 300, second.content
    assert again < cold, f"the second request cost {again} queries, the first {cold}: nothing was kept"


def buy(client: APIClient):
    """A new POS purchase (a new receipt) by the known consumer."""
    number = str(next(_receipts))
    return client.put(f"{POS}/shops", purchase(reference=f"r-{number}", coupon=number), format="json")


def bought(client: APIClient) -> dict:
    response = buy(client)
    assert response.status_code == 201, response.content
    return response.json()


def refusal(response) -> str:
    assert response.status_code == 401, response.content
    return response.json()["code"]


def pos_client(access_token: str, store_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}", HTTP_X_STORE_TOKEN=store_token)
    return client


# --- the admin ------------------------------------------------------------------------------


def admin_action(client, model: str, action: str, pk: int, *, confirmed: bool = False):
    """An action of the model's list on one row; `confirmed` answers "Yes" to its question."""
    body = {"action": action, "_selected_action": [pk], **({"post": "yes"} if confirmed else {})}
    response = client.post(reverse(f"admin:loyalty_{model}_changelist"), body)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def admin_form(client, url: str, body: dict):
    """A change or add form posted; the admin's redirect once it is saved."""
    response = client.post(url, body)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def account_form(account, **changes) -> dict:
    """The account's change form as its page shows it (with the stores' read-only inline)."""
    stores = list(account.stores.order_by("id"))
    return {
        "name": account.name,
        "is_active": "on",
        "time_zone": account.time_zone,
        "expiry_inactivity_days": "",
        "expiry_reminder_days": str(account.expiry_reminder_days),
        "redeem_max_share": "",
        "redeem_min_purchase": "0",
        "redeem_min_balance": "0",
        "stores-TOTAL_FORMS": str(len(stores)),
        "stores-INITIAL_FORMS": str(len(stores)),
        **{f"stores-{index}-id": str(store.pk) for index, store in enumerate(stores)},
        **{f"stores-{index}-account": str(account.pk) for index in range(len(stores))},
        **changes,
    }


def rule_form(rule, **changes) -> dict:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "value": str(rule.value),
        "active": "on",
        "excluded_payment_methods": ["9"],
        "minimum_amount": "0",
        **changes,
    }


def without(body: dict, name: str) -> dict:
    """A form posted with a checkbox left unticked."""
    return {key: value for key, value in body.items() if key != name}


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def maria(tenant):
    """The consumer of every purchase: known, with a phone (for SMS) and 100.00 of cashback."""
    customer = customer_create(account=tenant.account, name="Maria", document=CPF, phone="11987654321")
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("100")}, reason="Opening")
    return customer


@pytest.fixture
def five_percent(tenant, maria):
    return rule_create(account=tenant.account, name="5% cashback", kind="cashback", value=Decimal("5"))


@pytest.fixture
def north(tenant):
    """A second store of the account, with a till of its own."""
    store, token = store_create(account=tenant.account, name="Loja Norte")
    return SimpleNamespace(store=store, pos=pos_client(tenant.access_token, token))


@pytest.fixture
def staff(client, staff_a):
    client.force_login(staff_a)
    return client


@pytest.fixture
def root(client, superuser):
    client.force_login(superuser)
    return client


# --- the credential and the store behind the tokens -----------------------------------------


def test_a_credential_deactivated_in_the_admin_is_refused_by_the_next_request_then_accepted_again(
    tenant, staff
):
    warm(lambda: tenant.pos.get(f"{POS}/store"))
    warm(lambda: tenant.v2.get(f"{V2}/account"))

    admin_action(staff, "apicredential", "deactivate", tenant.merchant.credential.pk)

    assert refusal(tenant.pos.get(f"{POS}/store")) == "credential_inactive"
    assert refusal(tenant.v2.get(f"{V2}/account")) == "credential_inactive"
    # What is kept now is the refusal's row: activating it again must renew it too.
    admin_action(staff, "apicredential", "activate", tenant.merchant.credential.pk)
    assert tenant.pos.get(f"{POS}/store").status_code == 200
    assert tenant.v2.get(f"{V2}/account").status_code == 200


def test_a_secret_regenerated_in_the_admin_revokes_the_tokens_of_the_old_one_at_once(tenant, staff):
    warm(lambda: tenant.v2.get(f"{V2}/account"))
    warm(lambda: tenant.pos.get(f"{POS}/store"))

    admin_action(staff, "apicredential", "regenerate_secret", tenant.merchant.credential.pk, confirmed=True)

    assert refusal(tenant.v2.get(f"{V2}/account")) == "token_revoked"
    assert refusal(tenant.pos.get(f"{POS}/store")) == "token_revoked"


def test_a_store_deactivated_in_the_admin_is_refused_by_the_next_request_then_accepted_again(tenant, staff):
    warm(lambda: tenant.pos.get(f"{POS}/store"))

    admin_action(staff, "store", "deactivate", tenant.store.pk)

    assert refusal(tenant.pos.get(f"{POS}/store")) == "store_inactive"
    admin_action(staff, "store", "activate", tenant.store.pk)
    assert tenant.pos.get(f"{POS}/store").status_code == 200


def test_a_store_token_regenerated_in_the_admin_refuses_the_old_token_at_once(tenant, staff):
    warm(lambda: tenant.pos.get(f"{POS}/store"))

    shown = admin_action(staff, "store", "regenerate_token", tenant.store.pk, confirmed=True)

    assert refusal(tenant.pos.get(f"{POS}/store")) == "store_token_invalid"
    page = staff.get(shown["Location"]).content.decode()
    new_token = re.search(r'class="revealed-secret">([^<]+)<', page).group(1)
    assert pos_client(tenant.access_token, new_token).get(f"{POS}/store").status_code == 200


def test_a_store_and_a_credential_renamed_in_the_admin_are_answered_by_the_next_request(tenant, staff):
    # The admin's change forms save the rows themselves (no service): only the models' own
    # signals renew the version.
    warm(lambda: tenant.pos.get(f"{POS}/store"))

    admin_form(staff, reverse("admin:loyalty_store_change", args=[tenant.store.pk]), {"name": "Loja Centro"})
    store_name = tenant.pos.get(f"{POS}/store").json()["name"]
    warm(lambda: tenant.v2.get(f"{V2}/account"))  # kept again, under the renewed version
    credential = tenant.merchant.credential
    admin_form(
        staff, reverse("admin:loyalty_apicredential_change", args=[credential.pk]), {"name": "ERP novo"}
    )
    credential_name = tenant.v2.get(f"{V2}/account").json()["credential"]["name"]

    # One at a time, each read kept before its change: either change would renew both.
    assert (store_name, credential_name) == ("Loja Centro", "ERP novo")


# --- the account ----------------------------------------------------------------------------


def test_an_account_deactivated_in_the_admin_is_refused_by_the_next_request(tenant, root):
    warm(lambda: tenant.pos.get(f"{POS}/store"))
    warm(lambda: tenant.v2.get(f"{V2}/account"))

    admin_form(
        root,
        reverse("admin:loyalty_account_change", args=[tenant.account.pk]),
        without(account_form(tenant.account), "is_active"),
    )

    assert refusal(tenant.pos.get(f"{POS}/store")) == "account_inactive"
    assert refusal(tenant.v2.get(f"{V2}/account")) == "account_inactive"


def quote(tenant):
    body = {"consumer": CPF, "items": [{"barcode": "1", "unit_value": 12, "quantity": 2, "total": 24}]}
    return tenant.pos.post(f"{POS}/shops/discounts", body, format="json")


def change_settings_by_api(tenant, client, **settings):
    response = tenant.v2.patch(f"{V2}/account", settings, format="json")
    assert response.status_code == 200, response.content


def change_settings_in_the_admin(tenant, client, **settings):
    url = reverse("admin:loyalty_account_change", args=[tenant.account.pk])
    admin_form(client, url, without(account_form(tenant.account, **settings), "is_active"))


@pytest.mark.parametrize(
    "change", [change_settings_by_api, change_settings_in_the_admin], ids=["api", "admin"]
)
def test_a_new_redemption_share_limits_the_next_quote(tenant, maria, staff, change):
    warm(lambda: quote(tenant))
    warm(lambda: tenant.v2.get(f"{V2}/account"))
    assert quote(tenant).json()["max_redeemable"]["balance"] == 100  # the whole balance

    change(tenant, staff, redeem_max_share="50")

    assert quote(tenant).json()["max_redeemable"]["balance"] == 12
    assert tenant.v2.get(f"{V2}/account").json()["redeem_max_share"] == 50


@pytest.mark.parametrize(
    "change", [change_settings_by_api, change_settings_in_the_admin], ids=["api", "admin"]
)
def test_a_new_time_zone_dates_the_next_purchase(tenant, maria, staff, change):
    warm(lambda: buy(tenant.pos))
    warm(lambda: tenant.v2.get(f"{V2}/account"))
    assert bought(tenant.pos)["purchase"]["date"] == "2024-05-24T18:10:00.000000Z"  # São Paulo

    change(tenant, staff, time_zone="America/Manaus")

    assert bought(tenant.pos)["purchase"]["date"] == "2024-05-24T19:10:00.000000Z"
    assert tenant.v2.get(f"{V2}/account").json()["time_zone"] == "America/Manaus"


# --- the rules in force ---------------------------------------------------------------------


def create_by_api(tenant, client, rule):
    body = {"name": "2% more", "kind": "cashback", "value": 2}
    assert tenant.v2.post(f"{V2}/rules", body, format="json").status_code == 201


def change_value_by_api(tenant, client, rule):
    assert tenant.v2.patch(f"{V2}/rules/{rule.pk}", {"value": 10}, format="json").status_code == 200


def retire_by_api(tenant, client, rule):
    assert tenant.v2.patch(f"{V2}/rules/{rule.pk}", {"active": False}, format="json").status_code == 200


def add_in_the_admin(tenant, client, rule):
    body = rule_form(rule, name="2% more", value="2")
    admin_form(client, reverse("admin:loyalty_rewardrule_add"), body)


def change_value_in_the_admin(tenant, client, rule):
    admin_form(
        client, reverse("admin:loyalty_rewardrule_change", args=[rule.pk]), rule_form(rule, value="10")
    )


def untick_active_in_the_admin(tenant, client, rule):
    url = reverse("admin:loyalty_rewardrule_change", args=[rule.pk])
    admin_form(client, url, without(rule_form(rule), "active"))


def retire_in_the_admin(tenant, client, rule):
    admin_action(client, "rewardrule", "retire_selected", rule.pk)


@pytest.mark.parametrize(
    ("change", "cashback"),
    [
        pytest.param(create_by_api, 1.68, id="api-create"),
        pytest.param(change_value_by_api, 2.4, id="api-value"),
        pytest.param(retire_by_api, 0, id="api-retire"),
        pytest.param(add_in_the_admin, 1.68, id="admin-add"),
        pytest.param(change_value_in_the_admin, 2.4, id="admin-value"),
        pytest.param(untick_active_in_the_admin, 0, id="admin-untick-active"),
        pytest.param(retire_in_the_admin, 0, id="admin-retire-action"),
    ],
)
def test_the_next_purchase_earns_by_the_changed_rules(tenant, five_percent, staff, change, cashback):
    warm(lambda: buy(tenant.pos))
    assert bought(tenant.pos)["rewards"]["cashback"] == CASHBACK_AT_5

    change(tenant, staff, five_percent)

    assert bought(tenant.pos)["rewards"]["cashback"] == cashback


def limit_in_the_admin(tenant, client, rule):
    body = rule_form(rule, rule_stores=[tenant.store.pk])
    admin_form(client, reverse("admin:loyalty_rewardrule_change", args=[rule.pk]), body)


def limit_by_api(tenant, client, rule):
    response = tenant.v2.patch(f"{V2}/rules/{rule.pk}", {"store_ids": [tenant.store.pk]}, format="json")
    assert response.status_code == 200, response.content


def limit_the_links_alone(tenant, client, rule):
    # The links only, as `rule_scope_set` writes them: no save of the rule renews the version,
    # the links' own signals (`watch_links`) must.
    rule_scope_set(rule=rule, stores=[tenant.store], categories=[])


@pytest.mark.parametrize(
    "change",
    [limit_in_the_admin, limit_by_api, limit_the_links_alone],
    ids=["admin", "api", "links-alone"],
)
def test_a_rule_limited_to_one_store_earns_nothing_at_the_next_purchase_of_another(
    tenant, five_percent, north, staff, change
):
    warm(lambda: buy(north.pos))
    assert bought(north.pos)["rewards"]["cashback"] == CASHBACK_AT_5

    change(tenant, staff, five_percent)

    assert bought(north.pos)["rewards"]["cashback"] == 0
    assert bought(tenant.pos)["rewards"]["cashback"] == CASHBACK_AT_5


# --- a row moved to another account ---------------------------------------------------------


def move_store(tenant, north, rule, other):
    url = reverse("admin:loyalty_store_change", args=[north.store.pk])
    return url, {"account": other.pk, "name": north.store.name}


def move_credential(tenant, north, rule, other):
    credential = tenant.merchant.credential
    return reverse("admin:loyalty_apicredential_change", args=[credential.pk]), {
        "account": other.pk,
        "name": credential.name,
    }


def move_rule(tenant, north, rule, other):
    return reverse("admin:loyalty_rewardrule_change", args=[rule.pk]), rule_form(rule, account=other.pk)


# A superuser may move a row to another account in the admin: the account it left must stop
# using it at once too.
@pytest.mark.parametrize(
    ("move", "expected"),
    [
        pytest.param(move_store, "store_token_invalid", id="store"),
        pytest.param(move_credential, "token_revoked", id="credential"),
        pytest.param(move_rule, 0, id="rule"),
    ],
)
def test_a_row_moved_to_another_account_in_the_admin_leaves_the_first_account_at_once(
    tenant, five_percent, north, other_merchant, root, move, expected
):
    warm(lambda: buy(north.pos))

    admin_form(root, *move(tenant, north, five_percent, other_merchant.account))

    # The first account's tills no longer use it: the store and the credential are refused
    # (as another account's store or credential is), the rule earns nothing.
    response = buy(north.pos)
    if expected == 0:
        assert response.json()["rewards"]["cashback"] == 0
    else:
        assert refusal(response) == expected


# --- message templates ----------------------------------------------------------------------


def add_template_in_the_admin(tenant, client, template):
    body = {
        "name": "Recibo",
        "event": "sale_rewarded",
        "channel": "sms",
        "purpose": "transactional",
        "body": "Ganhou {cashback}",
        "active": "on",
    }
    admin_form(client, reverse("admin:loyalty_messagetemplate_add"), body)


def deactivate_template_in_the_admin(tenant, client, template):
    body = {
        "name": template.name,
        "event": template.event,
        "channel": template.channel,
        "purpose": template.purpose,
        "body": template.body,
    }
    admin_form(client, reverse("admin:loyalty_messagetemplate_change", args=[template.pk]), body)


@pytest.mark.parametrize(
    ("existing", "change", "messages"),
    [
        pytest.param(False, add_template_in_the_admin, 1, id="admin-add"),
        pytest.param(True, deactivate_template_in_the_admin, 0, id="admin-deactivate"),
    ],
)
def test_the_next_purchase_queues_by_the_changed_templates(
    tenant, five_percent, staff, existing, change, messages
):
    template = (
        message_template_create(
            account=tenant.account, name="R", event="sale_rewarded", channel="sms", body="Ganhou {cashback}"
        )
        if existing
        else None
    )
    warm(lambda: buy(tenant.pos))
    assert bought(tenant.pos)["rewards"]["messages"] == (1 if existing else 0)

    change(tenant, staff, template)

    assert bought(tenant.pos)["rewards"]["messages"] == messages
    assert MessageTemplate.objects.filter(account=tenant.account, active=True).count() == messages


# --- webhook endpoints ----------------------------------------------------------------------


def add_endpoint_by_api(tenant, client, endpoint):
    body = {"url": HOOK_URL, "events": ["sale.recorded"]}
    assert tenant.v2.post(f"{V2}/webhooks", body, format="json").status_code == 201


def switch_endpoint_off_by_api(tenant, client, endpoint):
    response = tenant.v2.patch(f"{V2}/webhooks/{endpoint.pk}", {"active": False}, format="json")
    assert response.status_code == 200, response.content


def add_endpoint_in_the_admin(tenant, client, endpoint):
    body = {"url": HOOK_URL, "events": ["sale.recorded"], "active": "on"}
    admin_form(client, reverse("admin:loyalty_webhookendpoint_add"), body)


def switch_endpoint_off_in_the_admin(tenant, client, endpoint):
    body = {"url": endpoint.url, "events": endpoint.events}  # "active" unticked
    admin_form(client, reverse("admin:loyalty_webhookendpoint_change", args=[endpoint.pk]), body)


def deliveries_of(send) -> int:
    before = WebhookDelivery.objects.count()
    send()
    return WebhookDelivery.objects.count() - before


@pytest.mark.parametrize(
    ("existing", "change", "queued"),
    [
        pytest.param(False, add_endpoint_by_api, 1, id="api-add"),
        pytest.param(True, switch_endpoint_off_by_api, 0, id="api-switch-off"),
        pytest.param(False, add_endpoint_in_the_admin, 1, id="admin-add"),
        pytest.param(True, switch_endpoint_off_in_the_admin, 0, id="admin-switch-off"),
    ],
)
def test_the_next_purchase_queues_deliveries_by_the_changed_endpoints(
    tenant, five_percent, staff, existing, change, queued
):
    endpoint = (
        webhook_endpoint_create(account=tenant.account, url=HOOK_URL, events=["sale.recorded"]).endpoint
        if existing
        else None
    )
    warm(lambda: buy(tenant.pos))
    assert deliveries_of(lambda: bought(tenant.pos)) == (1 if existing else 0)

    change(tenant, staff, endpoint)

    assert deliveries_of(lambda: bought(tenant.pos)) == queued
    assert WebhookEndpoint.objects.filter(account=tenant.account, active=True).count() == queued


# --- bounded staleness ----------------------------------------------------------------------


class Clock:
    """The cache module's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch, settings):
    settings.ACCOUNT_CACHE_SECONDS = 30
    moved = Clock()
    # The module's own `time` only: the rest of the process keeps the real clock.
    monkeypatch.setattr(account_cache, "time", moved)
    return moved


def test_a_rule_changed_without_a_signal_is_used_once_what_was_kept_is_older_than_the_bound(
    tenant, five_percent, clock
):
    warm(lambda: buy(tenant.pos))

    # `update()` sends no signal: the version stays, as when a service forgets
    # `account_config_changed`.
    RewardRule.objects.filter(pk=five_percent.pk).update(value=Decimal("10"))
    clock.advance(29)
    kept = bought(tenant.pos)["rewards"]["cashback"]
    clock.advance(2)
    read_again = bought(tenant.pos)["rewards"]["cashback"]

    # Within the bound the kept rules still earn: why every `update()` path must renew the
    # version itself. Past it, they are read again.
    assert (kept, read_again) == (CASHBACK_AT_5, 2.4)


@pytest.mark.parametrize(
    ("model", "code"),
    [(Store, "store_inactive"), (ApiCredential, "credential_inactive")],
    ids=["store", "credential"],
)
def test_a_deactivation_without_a_signal_is_refused_once_what_was_kept_is_older_than_the_bound(
    tenant, clock, model, code
):
    warm(lambda: tenant.pos.get(f"{POS}/store"))

    model.objects.filter(account=tenant.account).update(is_active=False)
    clock.advance(29)
    kept = tenant.pos.get(f"{POS}/store").status_code
    clock.advance(2)
    read_again = tenant.pos.get(f"{POS}/store")

    # Hence `store_set_active` and `credential_set_active` renew the version themselves.
    assert kept == 200
    assert refusal(read_again) == code


def test_a_lost_version_makes_every_process_read_again(tenant, five_percent):
    warm(lambda: buy(tenant.pos))
    RewardRule.objects.filter(pk=five_percent.pk).update(value=Decimal("10"))

    # Evicted from the shared cache (or the cache restarted empty): the next request reads
    # under a new version, so nothing kept under the lost one is used.
    cache.delete(account_cache.VERSION_KEY.format(account_id=tenant.account.pk))

    assert bought(tenant.pos)["rewards"]["cashback"] == 2.4


class SharedCacheDown:
    """The shared cache as the configuration's versions see it while Redis is down."""

    def get(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = set = get


def test_nothing_kept_is_used_while_the_shared_cache_cannot_be_read(
    tenant, five_percent, monkeypatch, caplog
):
    warm(lambda: buy(tenant.pos))  # the till's credential and store are kept too
    assert tenant.pos.get(f"{POS}/store").status_code == 200

    # Only the versions' cache is down: throttling and idempotency keep theirs.
    monkeypatch.setattr(account_cache, "cache", SharedCacheDown())
    # Changes that send no signal, so that only not using what was kept can show them.
    RewardRule.objects.filter(pk=five_percent.pk).update(value=Decimal("10"))
    earned = bought(tenant.pos)["rewards"]["cashback"]
    Store.objects.filter(pk=tenant.store.pk).update(is_active=False)
    store_refused = refusal(tenant.pos.get(f"{POS}/store"))

    assert (earned, store_refused) == (2.4, "store_inactive")
    assert "Could not read the configuration version" in caplog.text


# --- two processes sharing Redis ------------------------------------------------------------

REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/13",
    }
}
PEER_TIMEOUT = 60


@pytest.fixture
def shared_redis(postgres_only, settings):
    """Redis as this process's default cache (its database 13, emptied before and after)."""
    settings.CACHES = REDIS
    try:
        cache.clear()
    except Exception as error:  # whatever the failure, there is no Redis to share
        pytest.skip(f"needs Redis on 127.0.0.1:6379 ({error})")
    yield
    cache.clear()


class Peer:
    """The other process: `send` a request, get its answer and what it cost."""

    def __init__(self, process: subprocess.Popen, errors) -> None:
        self.process, self.errors = process, errors
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._next() == {"ready": True}

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _next(self) -> dict:
        try:
            line = self.lines.get(timeout=PEER_TIMEOUT)
        except queue.Empty:
            line = None
        if line is None:
            self.errors.seek(0)
            pytest.fail(f"the other process did not answer:\n{self.errors.read()[-3000:]}")
        return json.loads(line)

    def send(self, method: str, path: str, headers: dict, body: dict | None = None) -> SimpleNamespace:
        self.process.stdin.write(
            json.dumps({"method": method, "path": path, "headers": headers, "body": body})
        )
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        answer = self._next()
        return SimpleNamespace(status=answer["status"], body=answer["body"], queries=answer["queries"])


@pytest.fixture
def peer(shared_redis, tmp_path):
    with open(tmp_path / "peer-stderr.txt", "w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.loyalty.cache_peer", json.dumps(REDIS)],
            cwd=django_settings.BASE_DIR,
            env=process_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            yield Peer(process, errors)
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def till(tenant) -> dict:
    """The headers of the tenant's till."""
    return {
        "Authorization": f"Bearer {tenant.access_token}",
        "X-Store-Token": tenant.merchant.store_token,
        "Accept-Language": "en",
    }


def peer_wallet(peer, tenant):
    return peer.send("GET", f"{POS}/consumers/document/{CPF}/wallet", till(tenant))


def peer_purchase(peer, tenant):
    number = str(next(_receipts))
    answer = peer.send("PUT", f"{POS}/shops", till(tenant), purchase(reference=f"p-{number}", coupon=number))
    assert answer.status == 201, answer.body
    return answer


def warm_peer(send) -> None:
    cold, again = send(), send()
    assert cold.status < 300, cold.body
    assert again.status < 300, again.body
    # The other process answers the second from its memory: it has something to keep stale.
    assert again.queries < cold.queries, (cold.queries, again.queries)


@pytest.mark.django_db(transaction=True)
def test_the_credential_and_the_store_changed_in_the_admin_are_refused_by_the_other_process(
    peer, tenant, maria, staff
):
    warm_peer(lambda: peer_wallet(peer, tenant))

    admin_action(staff, "apicredential", "deactivate", tenant.merchant.credential.pk)
    refused = peer_wallet(peer, tenant)
    admin_action(staff, "apicredential", "activate", tenant.merchant.credential.pk)
    accepted = peer_wallet(peer, tenant)
    admin_action(staff, "store", "deactivate", tenant.store.pk)
    store_refused = peer_wallet(peer, tenant)

    assert (refused.status, refused.body["code"]) == (401, "credential_inactive")
    assert accepted.status == 200
    assert (store_refused.status, store_refused.body["code"]) == (401, "store_inactive")


@pytest.mark.django_db(transaction=True)
def test_rules_and_endpoints_changed_by_api_are_used_by_the_other_process(peer, tenant, five_percent):
    warm_peer(lambda: peer_purchase(peer, tenant))

    # Without a new version the other process keeps what it read: a change that sends no
    # signal is not seen there (within the bound).
    RewardRule.objects.filter(pk=five_percent.pk).update(value=Decimal("7"))
    kept = peer_purchase(peer, tenant).body["rewards"]["cashback"]
    changed = tenant.v2.patch(f"{V2}/rules/{five_percent.pk}", {"value": 10}, format="json")
    assert changed.status_code == 200, changed.content
    after_patch = peer_purchase(peer, tenant).body["rewards"]["cashback"]
    created = tenant.v2.post(f"{V2}/webhooks", {"url": HOOK_URL, "events": ["sale.recorded"]}, format="json")
    assert created.status_code == 201, created.content
    peer_purchase(peer, tenant)

    assert kept == CASHBACK_AT_5
    assert after_patch == 2.4
    assert WebhookDelivery.objects.filter(endpoint_id=created.json()["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_what_the_other_process_read_between_the_change_and_its_commit_is_dropped_at_the_commit(
    peer, tenant, maria, staff
):
    warm_peer(lambda: peer_wallet(peer, tenant))

    with transaction.atomic():
        admin_action(staff, "store", "deactivate", tenant.store.pk)
        # The version is already new, the row not yet committed: the other process reads
        # the store as active and keeps it under the new version.
        during = peer_wallet(peer, tenant)
    after = peer_wallet(peer, tenant)

    assert during.status == 200
    # The renewal at the commit makes it read again.
    assert (after.status, after.body["code"]) == (401, "store_inactive")
