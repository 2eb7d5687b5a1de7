"""The back office in a real headless Chromium with a Brazilian browser (pt-BR), through a
store manager's daily jobs: log in, read the dashboard, create a promotion with `12,5` % off,
adjust a wallet by `10,50` through its confirmation, cancel a sale through its confirmation,
and read a sale rung at 17:30 local as 17:30.

Each page is saved as a screenshot in `BROWSER_SCREENSHOTS` (default var/screenshots/), which
`.ci/run` lists at the end of its log. Runs where Chromium and its driver are installed
(`make browser-deps`; CI installs them); skipped elsewhere with the reason.
"""

import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from customers.models import Customer, LedgerEntry
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import PaymentMethod
from loyalty.shell.demo import STAFF_PASSWORD, STAFF_USERNAME, seed_demo
from promotions.models import Promotion
from sales.models import Sale
from sales.outcomes import PaymentData, SaleInput
from sales.services import sale_record
from tests.browser.chromium import needs_chromium, start_chromium

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium, pytest.mark.language("pt-br")]

SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", settings.BASE_DIR / "var" / "screenshots"))


@pytest.fixture
def browser():
    driver = start_chromium(language="pt-BR")
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def demo(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    credentials = seed_demo()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(STAFF_USERNAME)
    browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD + Keys.ENTER)
    wait_for(browser, "#user-tools")  # logged in: the session cookie is set before any other page
    return credentials


def shoot(browser, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The whole page, not only the window.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, max(1000, min(height, 4000)))
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    browser.set_window_size(1400, 1000)


def wait_for(browser, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_the_dashboard_reads_in_portuguese_with_a_labelled_chart(live_server, browser, demo):
    from selenium.webdriver.common.by import By

    wait_for(browser, "svg.sales-chart")
    shoot(browser, "01-dashboard")

    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pt-br"
    assert "Vendas por dia (R$)" in browser.page_source
    assert browser.find_element(By.ID, "figure-sales").text.startswith("3 · R$ ")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.sales-chart rect.bar")) == 30
    day_labels = [
        label.text for label in browser.find_elements(By.CSS_SELECTOR, "svg.sales-chart .day-label")
    ]
    assert len(day_labels) == 15
    assert all(len(label) == 5 and label[2] == "/" for label in day_labels)
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.sales-chart rect.bar.empty")) == 27
    assert next(tick.text for tick in browser.find_elements(By.CSS_SELECTOR, "svg.sales-chart .tick")) == "0"


def test_a_promotion_of_12_5_percent_is_typed_with_a_comma(live_server, browser, demo):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 10)
    browser.get(f"{live_server.url}/admin/promotions/promotion/add/")
    browser.find_element(By.CSS_SELECTOR, ".field-product .select2-selection").click()
    search = wait.until(
        expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".select2-search__field"))
    )
    search.send_keys("Pringles")
    wait.until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".select2-results__option"), "Pringles"
        )
    )
    search.send_keys(Keys.ENTER)
    percent = browser.find_element(By.NAME, "percent_off")
    percent.clear()
    percent.send_keys("12,5")
    browser.find_element(By.NAME, "starts_at_0").send_keys("01/06/2024")
    browser.find_element(By.NAME, "starts_at_1").send_keys("08:00")
    shoot(browser, "02-promotion-form")
    browser.find_element(By.NAME, "_save").click()

    wait_for(browser, "ul.messagelist .success")
    shoot(browser, "03-promotion-saved")
    promotion = Promotion.objects.get(product__barcode="13456789", starts_at__date="2024-06-01")
    assert promotion.percent_off == Decimal("12.50")
    assert promotion.starts_at == datetime.fromisoformat("2024-06-01T11:00:00+00:00")  # 08:00 in São Paulo
    assert "12,5 %" in browser.page_source
    assert "01/06/2024 08:00" in browser.page_source


def test_a_wallet_adjusted_by_10_50_shows_the_amount_as_money_before_writing(live_server, browser, demo):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    maria = Customer.objects.get(account=demo.account, document="53933515009")
    rows_before = LedgerEntry.objects.filter(wallet__customer=maria).count()
    browser.get(f"{live_server.url}/admin/customers/customer/{maria.pk}/adjust-wallet/")
    Select(browser.find_element(By.NAME, "bucket")).select_by_value("balance")
    browser.find_element(By.NAME, "amount").send_keys("10,50")
    browser.find_element(By.NAME, "reason").send_keys("Cortesia")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    wait_for(browser, "input[name=confirm]")
    shoot(browser, "04-adjustment-confirmation")
    assert "+R$ 10,50" in browser.page_source
    assert LedgerEntry.objects.filter(wallet__customer=maria).count() == rows_before  # not yet
    browser.find_element(By.NAME, "confirm").click()

    wait_for(browser, "ul.messagelist .success")
    shoot(browser, "05-adjustment-written")
    entry = LedgerEntry.objects.filter(wallet__customer=maria).latest("id")
    assert (entry.kind, entry.balance, entry.reason) == ("adjustment", Decimal("10.50"), "Cortesia")
    assert "Cashback +R$ 10,50" in browser.page_source


def test_a_sale_is_cancelled_through_its_confirmation_page(live_server, browser, demo):
    from selenium.webdriver.common.by import By

    sale = Sale.objects.filter(account=demo.account, status=Sale.Status.RECORDED).order_by("id").first()
    browser.get(f"{live_server.url}/admin/sales/sale/{sale.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/admin/sales/sale/{sale.pk}/cancel/']").click()

    wait_for(browser, "form input[name=post]")
    shoot(browser, "06-cancel-confirmation")
    sale.refresh_from_db()
    assert sale.status == Sale.Status.RECORDED
    browser.find_element(By.CSS_SELECTOR, "form .submit-row input[type=submit]").click()

    wait_for(browser, "ul.messagelist .success")
    shoot(browser, "07-sale-cancelled")
    sale.refresh_from_db()
    assert (sale.status, sale.cancelled_by.username) == (Sale.Status.CANCELLED, STAFF_USERNAME)
    assert STAFF_USERNAME in browser.find_element(By.CSS_SELECTOR, ".field-cancelled_by_whom").text


def test_a_sale_rung_at_17_30_local_reads_17_30(live_server, browser, demo):
    from selenium.webdriver.common.by import By

    rung = datetime.fromisoformat("2026-11-27T17:30:00-03:00")
    sale = sale_record(
        account=demo.account,
        sent=SaleInput(
            source=Sale.Source.POS,
            store=demo.store,
            occurred_at=rung,
            document="53933515009",
            type="CF",
            receipt=Receipt(reference="TARDE-1", pdv="2", coupon="4321"),
            operator="Ana",
            items=(),
            declared_amount=Decimal("30.00"),
            payments=(PaymentData(method=PaymentMethod.CREDIT_CARD, total=Decimal("30.00")),),
        ),
    ).sale

    browser.get(f"{live_server.url}/admin/sales/sale/{sale.pk}/change/")
    shoot(browser, "08-sale-local-time")
    occurred = browser.find_element(By.CSS_SELECTOR, ".field-occurred_at .readonly").text
    browser.get(f"{live_server.url}/admin/sales/sale/?q=4321")
    listed = browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr").text

    assert "17:30" in occurred
    assert "20:30" not in occurred
    assert "17:30" in listed


def test_the_rule_form_shows_only_the_fields_of_its_kind(live_server, browser, demo):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{live_server.url}/admin/loyalty/rewardrule/add/")
    kind = Select(browser.find_element(By.NAME, "kind"))

    def shown(field: str) -> bool:
        return browser.find_element(By.CSS_SELECTOR, f".form-row.field-{field}").is_displayed()

    kind.select_by_value("cashback")
    assert (shown("value"), shown("maximum_reward"), shown("threshold"), shown("template")) == (
        True,
        True,
        False,
        False,
    )
    kind.select_by_value("voucher")
    assert (shown("threshold"), shown("reward"), shown("maximum_reward")) == (True, True, False)
    kind.select_by_value("message")
    shoot(browser, "09-rule-form-message")
    assert (shown("template"), shown("value"), shown("threshold"), shown("valid_days")) == (
        True,
        False,
        False,
        False,
    )


def test_a_template_preview_follows_the_typing_and_points_out_unknown_placeholders(
    live_server, browser, demo
):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/admin/loyalty/messagetemplate/add/")
    body = browser.find_element(By.NAME, "body")
    body.send_keys("Olá {name}, você ganhou {cashback} na {store}.")
    preview = browser.find_element(By.ID, "template-live-preview")
    assert preview.find_element(By.CSS_SELECTOR, ".preview-body").text == (
        "Olá Maria Souza, você ganhou 7,65 na Loja Centro."
    )
    assert not preview.find_element(By.CSS_SELECTOR, ".preview-errors").is_displayed()

    body.send_keys(" Até {nome}!")

    errors = preview.find_element(By.CSS_SELECTOR, ".preview-errors")
    shoot(browser, "10-template-preview")
    assert errors.is_displayed()
    assert "{nome}" in errors.text
    assert "{name}" in errors.text  # the valid ones are listed


@pytest.mark.parametrize(
    "path", ["promotions/promotion", "customers/customer", "sales/sale", "loyalty/message"]
)
def test_lists_fit_a_1400_px_screen(live_server, browser, demo, path):
    browser.get(f"{live_server.url}/admin/{path}/")
    wait_for(browser, "#changelist")

    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), path
