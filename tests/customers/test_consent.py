"""Marketing consent (LGPD): its history, its current state, the v2 API and the LGPD export."""

import pytest
from django.db import transaction

from customers.models import ConsentChange, Customer, CustomerConsent
from customers.services import consent_set, consents_set, customer_create
from loyalty.core.errors import ConflictError
from loyalty.shell.privacy import customer_erase
from tests.builders import V2
from tests.concurrency import run_concurrently
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db

NEVER_ASKED = {"granted": False, "changed_at": None, "source": None}


@pytest.fixture
def maria(tenant):
    return customer_create(
        account=tenant.account, name="Maria", document="53933515009", email="maria@example.com"
    )


def history(customer) -> list[tuple[str, bool, str]]:
    return list(
        ConsentChange.objects.filter(customer=customer)
        .order_by("id")
        .values_list("channel", "granted", "source")
    )


# --- the service ----------------------------------------------------------------------------


def test_each_change_is_a_new_row_and_the_state_follows_the_latest(tenant, maria, staff_a):
    given = consent_set(customer=maria, channel="sms", granted=True, source="pos", store=tenant.store)
    withdrawn = consent_set(customer=maria, channel="sms", granted=False, source="admin", staff_user=staff_a)

    assert history(maria) == [("sms", True, "pos"), ("sms", False, "admin")]
    assert (given.store, given.staff_user, given.account) == (tenant.store, None, tenant.account)
    assert (withdrawn.store, withdrawn.staff_user) == (None, staff_a)
    state = CustomerConsent.objects.get(customer=maria)
    assert (state.channel, state.granted, state.source, state.store) == ("sms", False, "admin", None)
    assert state.changed_at == withdrawn.occurred_at
    assert maria.marketing_channels() == frozenset()


def test_setting_what_is_already_set_writes_nothing(tenant, maria, django_assert_num_queries):
    consent_set(customer=maria, channel="email", granted=True, source="api")

    # The state read (locked), and nothing else.
    with django_assert_num_queries(1):
        assert consent_set(customer=maria, channel="email", granted=True, source="pos") is None

    assert history(maria) == [("email", True, "api")]
    assert CustomerConsent.objects.get(customer=maria).source == "api"


def test_a_first_answer_is_a_change_even_when_it_is_no(maria):
    assert consent_set(customer=maria, channel="whatsapp", granted=False, source="api") is not None
    assert consent_set(customer=maria, channel="whatsapp", granted=False, source="api") is None

    assert history(maria) == [("whatsapp", False, "api")]


def test_several_channels_at_once_write_only_those_that_change(maria):
    consents_set(customer=maria, changes={"email": True}, source="api")

    written = consents_set(
        customer=maria, changes={"whatsapp": True, "email": True, "sms": False}, source="api"
    )

    assert [change.channel for change in written] == ["sms", "whatsapp"]
    assert maria.marketing_channels() == {"email", "whatsapp"}
    assert ConsentChange.objects.filter(customer=maria).count() == 3


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [({"fax": True}, "Unknown consent channel"), ({"email": "yes"}, "given .True. or withdrawn")],
    ids=["unknown channel", "not a boolean"],
)
def test_an_unknown_channel_or_answer_is_refused(maria, changes, refusal):
    with pytest.raises(ValueError, match=refusal), transaction.atomic():
        consents_set(customer=maria, changes=changes, source="api")

    assert not ConsentChange.objects.exists()


def test_a_store_of_another_account_is_refused(maria, other_tenant):
    with pytest.raises(ValueError, match="another account"), transaction.atomic():
        consent_set(customer=maria, channel="sms", granted=True, source="pos", store=other_tenant.store)

    assert not CustomerConsent.objects.exists()


def test_anonymisation_keeps_the_history_and_refuses_new_changes(tenant, maria):
    consent_set(customer=maria, channel="email", granted=True, source="api")

    customer_erase(customer=maria)

    assert history(maria) == [("email", True, "api")]
    with pytest.raises(ConflictError), transaction.atomic():
        consent_set(customer=maria, channel="email", granted=False, source="api")
    # No contact is left: nothing can reach them, marketing or not.
    assert Customer.objects.get(pk=maria.pk).email is None


@pytest.mark.django_db(transaction=True)
def test_two_first_answers_at_once_end_as_one_state_and_one_change(postgres_only, tenant, maria):
    def give(_):
        with transaction.atomic():
            return consent_set(customer=maria, channel="sms", granted=True, source="api")

    results = run_concurrently(2, give)

    assert not [result for result in results if isinstance(result, BaseException)]
    assert sum(result is not None for result in results) == 1
    assert history(maria) == [("sms", True, "api")]
    assert CustomerConsent.objects.filter(customer=maria).count() == 1


# --- the v2 API ------------------------------------------------------------------------------

MARIA = {"name": "Maria Souza", "cpf": "539.335.150-09", "email": "maria@example.com"}


def test_a_customer_answers_its_consent_on_every_channel(tenant, maria):
    response = tenant.v2.get(f"{V2}/customers/{maria.pk}")

    assert response.json()["consent"] == {
        "email": NEVER_ASKED,
        "sms": NEVER_ASKED,
        "whatsapp": NEVER_ASKED,
    }
    assert_documented(response, "GET", "/api/v2/customers/{id}")


def test_post_records_the_consent_sent_with_source_api(tenant, django_assert_num_queries):
    body = {**MARIA, "consent": {"email": True, "sms": False}}

    # Auth, uniqueness, the customer (in a savepoint) and its wallet; the consent: its state
    # read, both rows in one insert (in a savepoint) and their history in another; the
    # answer's read of it; the request's savepoint.
    with django_assert_num_queries(14):
        response = tenant.v2.post(f"{V2}/customers", body, format="json")

    assert response.status_code == 201, response.content
    consent = response.json()["consent"]
    assert consent["email"]["granted"] is True
    assert consent["email"]["source"] == "api"
    assert consent["email"]["changed_at"].endswith("Z")
    assert (consent["sms"]["granted"], consent["sms"]["source"]) == (False, "api")
    assert consent["whatsapp"] == NEVER_ASKED
    customer = Customer.objects.get(pk=response.json()["id"])
    assert history(customer) == [("email", True, "api"), ("sms", False, "api")]
    assert ConsentChange.objects.filter(customer=customer, store__isnull=False).count() == 0
    assert_documented(response, "POST", "/api/v2/customers")


def test_patch_changes_only_the_channels_sent_and_a_repeat_writes_nothing(
    tenant, maria, django_assert_num_queries
):
    consent_set(customer=maria, channel="email", granted=True, source="pos", store=tenant.store)
    path = f"{V2}/customers/{maria.pk}"
    before = Customer.objects.get(pk=maria.pk).updated_at

    # Auth, the customer with its wallet and consent; the consent locked, a row updated, its
    # history; the answer's read of it; the request's savepoint.
    with django_assert_num_queries(10):
        response = tenant.v2.patch(path, {"consent": {"email": False}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["consent"]["email"]["granted"] is False
    assert response.json()["consent"]["email"]["source"] == "api"
    assert Customer.objects.get(pk=maria.pk).updated_at == before  # the record itself is unchanged
    again = tenant.v2.patch(path, {"consent": {"email": False}, "name": "Maria S."}, format="json")
    assert again.status_code == 200
    assert again.json()["name"] == "Maria S."
    assert history(maria) == [("email", True, "pos"), ("email", False, "api")]
    assert_documented(response, "PATCH", "/api/v2/customers/{id}")


def test_the_list_reads_consent_once_for_the_whole_page(tenant, maria, django_assert_num_queries):
    consent_set(customer=maria, channel="sms", granted=True, source="api")
    customer_create(account=tenant.account, name="João", document="11144477735")

    # Auth, count, customers, their wallets, their consent.
    with django_assert_num_queries(5):
        response = tenant.v2.get(f"{V2}/customers")

    by_name = {row["name"]: row["consent"] for row in response.json()["results"]}
    assert by_name["Maria"]["sms"]["granted"] is True
    assert by_name["João"]["sms"] == NEVER_ASKED


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        ({"fax": True}, {"consent": {"fax": ["Unknown channel. Valid ones: email, sms, whatsapp."]}}),
        ({"sms": "yes"}, {"consent": {"sms": ["Must be true (accepts marketing) or false (refuses it)."]}}),
        ({"sms": 1}, {"consent": {"sms": ["Must be true (accepts marketing) or false (refuses it)."]}}),
        ({"sms": None}, {"consent": {"sms": ["Must be true (accepts marketing) or false (refuses it)."]}}),
        (
            ["sms"],
            {"consent": ['Expected an object of channels, e.g. {"email": true, "sms": false}.']},
        ),
        (None, {"consent": ["This field may not be null."]}),
    ],
    ids=["unknown channel", "a string", "a number", "null answer", "a list", "null"],
)
def test_a_malformed_consent_is_a_400_naming_the_field_and_writes_nothing(tenant, maria, consent, expected):
    created = tenant.v2.post(f"{V2}/customers", {**MARIA, "cpf": None, "consent": consent}, format="json")
    patched = tenant.v2.patch(f"{V2}/customers/{maria.pk}", {"consent": consent}, format="json")

    assert (created.status_code, created.json()) == (400, expected)
    assert (patched.status_code, patched.json()) == (400, expected)
    assert Customer.objects.count() == 1
    assert not ConsentChange.objects.exists()


def test_a_refused_request_writes_no_consent(tenant, maria):
    other = customer_create(account=tenant.account, name="João", document="11144477735")

    # The e-mail belongs to Maria: the PATCH is a 400, and its consent is not recorded.
    response = tenant.v2.patch(
        f"{V2}/customers/{other.pk}", {"email": "maria@example.com", "consent": {"sms": True}}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()
    assert not ConsentChange.objects.exists()


def test_an_anonymised_customers_consent_is_a_409(tenant, maria):
    customer_erase(customer=maria)

    response = tenant.v2.patch(f"{V2}/customers/{maria.pk}", {"consent": {"sms": True}}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "anonymized"
    assert not ConsentChange.objects.exists()


def test_another_accounts_customer_answers_404_and_keeps_its_consent(tenant, other_tenant):
    foreign = customer_create(account=other_tenant.account, name="Outra", document="52998224725")
    consent_set(customer=foreign, channel="email", granted=True, source="api")

    patched = tenant.v2.patch(f"{V2}/customers/{foreign.pk}", {"consent": {"email": False}}, format="json")
    read = tenant.v2.get(f"{V2}/customers/{foreign.pk}")
    listed = tenant.v2.get(f"{V2}/customers").json()

    assert (patched.status_code, read.status_code) == (404, 404)
    assert listed["count"] == 0
    assert foreign.marketing_channels() == {"email"}
    assert history(foreign) == [("email", True, "api")]


def test_a_retry_with_the_same_idempotency_key_writes_the_consent_once(tenant, maria):
    path = f"{V2}/customers/{maria.pk}"
    headers = {"HTTP_IDEMPOTENCY_KEY": "consent-1"}

    first = tenant.v2.patch(path, {"consent": {"sms": True}}, format="json", **headers)
    consent_set(customer=maria, channel="sms", granted=False, source="admin")
    retry = tenant.v2.patch(path, {"consent": {"sms": True}}, format="json", **headers)
    other = tenant.v2.patch(path, {"consent": {"sms": False}}, format="json", **headers)

    assert retry.content == first.content
    assert other.status_code == 422
    assert history(maria) == [("sms", True, "api"), ("sms", False, "admin")]


# --- the LGPD export ------------------------------------------------------------------------


def test_the_export_holds_the_consent_and_its_whole_history(tenant, maria, staff_a):
    consent_set(customer=maria, channel="sms", granted=True, source="pos", store=tenant.store)
    consent_set(customer=maria, channel="sms", granted=False, source="admin", staff_user=staff_a)
    consent_set(customer=maria, channel="email", granted=True, source="api")

    export = tenant.v2.get(f"{V2}/customers/{maria.pk}/export").json()

    assert [
        (row["channel"], row["granted"], row["source"], row["store_id"]) for row in export["consent_history"]
    ] == [
        ("sms", True, "pos", tenant.store.pk),
        ("sms", False, "admin", None),
        ("email", True, "api", None),
    ]
    assert all(row["occurred_at"].endswith("Z") for row in export["consent_history"])
    assert export["consent"]["sms"]["granted"] is False
    assert export["consent"]["email"]["source"] == "api"
    assert export["consent"]["whatsapp"] == NEVER_ASKED
    assert staff_a.username not in str(export)  # who at the merchant changed it is the merchant's
