"""The back office in a real headless Chromium: login, the dashboard, creating a promotion.

Runs where Chromium and its driver are installed (`make browser-deps`; CI installs them);
skipped elsewhere with the reason.
"""

from decimal import Decimal

import pytest

from loyalty.shell.demo import STAFF_PASSWORD, STAFF_USERNAME, seed_demo
from promotions.models import Promotion
from tests.browser.chromium import needs_chromium, start_chromium

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def browser():
    driver = start_chromium()
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def test_staff_log_in_see_the_dashboard_and_create_a_promotion(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    seed_demo()
    wait = WebDriverWait(browser, 10)

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(STAFF_USERNAME)
    browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD + Keys.ENTER)

    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "svg.sales-chart")))
    assert "Last 30 days" in browser.page_source
    assert browser.find_element(By.ID, "figure-sales").text.startswith("3 · R$")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.sales-chart rect")) == 30

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
    percent.send_keys("15")
    browser.find_element(By.NAME, "starts_at_0").send_keys("2024-06-01")
    browser.find_element(By.NAME, "starts_at_1").send_keys("08:00:00")
    browser.find_element(By.NAME, "_save").click()

    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist .success")))
    promotion = Promotion.objects.get(percent_off=Decimal("15"))
    assert promotion.product.barcode == "13456789"
    assert promotion.account.name == "Mercado Demo"
