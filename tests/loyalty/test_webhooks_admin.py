"""Webhooks in the admin: the signing secret shown once after creation or regeneration (which
asks first), the endpoints' forms validated as the API validates them, and the delivery log,
read-only, with its retry action."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse
from standardwebhooks import Webhook

from loyalty.outbox.webhooks.models import WebhookDelivery, WebhookEndpoint
from loyalty.outbox.webhooks.services import (
    webhook_endpoint_create,
    webhook_event_record,
    webhooks_send_due,
)
from tests.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

ADD = {"url": "https://erp.example.com/hooks", "events": ["sale.recorded", "voucher.used"], "active": "on"}


def revealed(html: str) -> list[str]:
    return re.findall(r'class="revealed-secret">([^<]+)<', html)


def test_adding_an_endpoint_shows_its_secret_once(client, staff_a, merchant):
    client.force_login(staff_a)

    posted = client.post(reverse("admin:loyalty_webhookendpoint_add"), ADD)

    assert posted.status_code == 302, posted.content.decode()[:2000]
    assert posted["Location"].startswith(reverse("admin:loyalty_webhookendpoint_reveal") + "?shown=")
    page = client.get(posted["Location"]).content.decode()
    [secret] = revealed(page)
    endpoint = WebhookEndpoint.objects.get()
    assert secret == endpoint.secret
    assert secret.startswith("whsec_")
    assert "never shown again" in page
    assert "Only a hash is kept" not in page
    assert (endpoint.account, endpoint.events) == (merchant.account, ["sale.recorded", "voucher.used"])
    assert secret not in client.get(posted["Location"]).content.decode()  # shown once
    change_page = client.get(
        reverse("admin:loyalty_webhookendpoint_change", args=[endpoint.pk])
    ).content.decode()
    assert secret not in change_page
    assert endpoint.secret_prefix in change_page
    listing = client.get(reverse("admin:loyalty_webhookendpoint_changelist")).content.decode()
    assert secret not in listing
    assert f"?endpoint__id__exact={endpoint.pk}" in listing  # the way to its delivery log


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "http://erp.example.com/hooks"}, "url"),
        ({"url": "https://erp.example.com/" + "x" * 2000}, "url"),
        ({"events": []}, "events"),
        ({"events": ["sale.exploded"]}, "events"),
    ],
)
def test_a_refused_endpoint_is_shown_on_its_form(client, staff_a, merchant, changes, field):
    client.force_login(staff_a)

    response = client.post(reverse("admin:loyalty_webhookendpoint_add"), {**ADD, **changes})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_the_admin_refuses_a_private_address_in_production(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.post(reverse("admin:loyalty_webhookendpoint_add"), {**ADD, "url": "https://10.0.0.1/h"})

    assert "private, loopback or link-local" in str(response.context["adminform"].form.errors["url"])


def test_changing_an_endpoint_keeps_its_secret(client, staff_a, merchant):
    issued = webhook_endpoint_create(account=merchant.account, url=ADD["url"], events=["sale.recorded"])
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:loyalty_webhookendpoint_change", args=[issued.endpoint.pk]),
        {"url": "https://erp.example.com/v2", "events": ["balance.redeemed"]},
    )

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        "https://erp.example.com/v2",
        ["balance.redeemed"],
        False,
    )
    assert endpoint.secret == issued.secret


def test_an_endpoint_never_moves_to_another_account(client, superuser, merchant, other_merchant):
    """Its deliveries were queued for its account; a superuser's form offers no account to change."""
    issued = webhook_endpoint_create(account=merchant.account, url=ADD["url"], events=["sale.recorded"])
    client.force_login(superuser)
    url = reverse("admin:loyalty_webhookendpoint_change", args=[issued.endpoint.pk])

    form = client.get(url).context["adminform"].form
    response = client.post(
        url,
        {
            "account": other_merchant.account.pk,
            "url": ADD["url"],
            "events": ["sale.recorded"],
            "active": "on",
        },
    )

    assert "account" not in form.fields
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().account == merchant.account


def test_regenerating_the_secret_asks_first_then_shows_the_new_one_once(client, staff_a, merchant):
    issued = webhook_endpoint_create(account=merchant.account, url=ADD["url"], events=["sale.recorded"])
    client.force_login(staff_a)
    chosen = {"action": "regenerate_secret", "_selected_action": [issued.endpoint.pk]}

    asked = client.post(reverse("admin:loyalty_webhookendpoint_changelist"), chosen)

    assert asked.status_code == 200
    assert "signed with the new secret" in asked.content.decode()
    assert WebhookEndpoint.objects.get().secret == issued.secret  # nothing changed yet

    response = client.post(
        reverse("admin:loyalty_webhookendpoint_changelist"), {**chosen, "post": "yes"}, follow=True
    )

    [secret] = revealed(response.content.decode())
    assert secret != issued.secret
    assert WebhookEndpoint.objects.get().secret == secret


def test_the_delivery_log_is_read_only_and_failed_deliveries_can_be_retried(client, staff_a, merchant):
    with Receiver() as receiver:
        issued = webhook_endpoint_create(
            account=merchant.account, url=receiver.url(), events=["sale.recorded"]
        )
        webhook_event_record(
            account_id=merchant.account.pk,
            type="sale.recorded",
            occurred_at=issued.endpoint.created_at,
            data={},
        )
        receiver.reply(Reply(500))
        webhooks_send_due()
        WebhookDelivery.objects.update(status=WebhookDelivery.Status.FAILED)
        delivery = WebhookDelivery.objects.get()
        client.force_login(staff_a)

        listing = client.get(reverse("admin:loyalty_webhookdelivery_changelist"))
        page = client.get(reverse("admin:loyalty_webhookdelivery_change", args=[delivery.pk]))
        retried = client.post(
            reverse("admin:loyalty_webhookdelivery_changelist"),
            {"action": "retry", "_selected_action": [delivery.pk]},
            follow=True,
        )
        webhooks_send_due()

        assert listing.status_code == page.status_code == retried.status_code == 200
        assert delivery.event_id in page.content.decode()
        assert "HTTP 500" in page.content.decode()  # the attempt log
        assert "1 webhook delivery queued again." in retried.content.decode()
        assert WebhookDelivery.objects.get().status == "sent"
        last = receiver.requests[-1]
        assert last.headers["webhook-id"] == delivery.event_id
        Webhook(issued.secret).verify(last.body, last.headers)
    assert client.get(reverse("admin:loyalty_webhookdelivery_add")).status_code == 403
