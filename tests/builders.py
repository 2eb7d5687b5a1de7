"""What the whole suite builds requests with: the API prefixes, the product apps, and a
merchant with ready API clients of both dialects."""

from dataclasses import dataclass

from rest_framework.test import APIClient

from loyalty.shell.merchants import MerchantCreated

V2 = "/api/v2"
POS = "/api/v1/accounts/integrations"

PRODUCT_APPS = ["loyalty", "customers", "promotions", "sales", "vouchers"]


@dataclass
class Tenant:
    """A merchant with ready API clients of both dialects."""

    merchant: MerchantCreated
    access_token: str
    v2: APIClient
    pos: APIClient

    @property
    def account(self):
        return self.merchant.account

    @property
    def store(self):
        return self.merchant.store


def obtain_token(api_key: str, api_secret: str) -> str:
    response = APIClient().post(
        f"{V2}/auth/token", {"api_key": api_key, "api_secret": api_secret}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def make_tenant(merchant: MerchantCreated) -> Tenant:
    token = obtain_token(merchant.credential.api_key, merchant.api_secret)
    v2 = APIClient()
    v2.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    pos = APIClient()
    pos.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_STORE_TOKEN=merchant.store_token)
    return Tenant(merchant=merchant, access_token=token, v2=v2, pos=pos)
