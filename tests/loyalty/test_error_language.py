"""API errors follow Accept-Language: pt-BR by default, English on request; the machine
`code` and the fields named never change with the language."""

from decimal import Decimal

import pytest

from customers.services import customer_create, wallet_credit
from tests.builders import POS, V2

pytestmark = [pytest.mark.django_db, pytest.mark.language(None)]

PORTUGUESE = [{}, {"HTTP_ACCEPT_LANGUAGE": "pt-BR"}, {"HTTP_ACCEPT_LANGUAGE": "pt-BR,pt;q=0.9,en;q=0.8"}]
ENGLISH = [{"HTTP_ACCEPT_LANGUAGE": "en"}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}]


@pytest.fixture
def maria(tenant):
    customer = customer_create(account=tenant.account, name="Maria", document="53933515009")
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("5.00")})
    return customer


def invalid_cpf(tenant, headers):
    return tenant.v2.post(f"{V2}/customers", {"name": "Ana", "cpf": "53933515000"}, format="json", **headers)


@pytest.mark.parametrize("headers", PORTUGUESE, ids=["no header", "pt-BR", "pt-BR first"])
def test_validation_errors_are_portuguese_by_default(tenant, headers):
    response = invalid_cpf(tenant, headers)

    assert response.status_code == 400
    assert response.json() == {"cpf": ["CPF/CNPJ inválido: os dígitos verificadores não conferem."]}
    assert response["Content-Language"] == "pt-br"


@pytest.mark.parametrize("headers", ENGLISH, ids=["en", "en-US first"])
def test_validation_errors_in_english_on_request(tenant, headers):
    response = invalid_cpf(tenant, headers)

    assert response.json() == {"cpf": ["Invalid CPF/CNPJ: check digits do not match."]}
    assert response["Content-Language"] == "en"


@pytest.mark.parametrize(
    ("language", "message"), [("pt-BR", "Este campo é obrigatório."), ("en", "This field is required.")]
)
def test_the_frameworks_own_messages_follow_too(tenant, language, message):
    response = tenant.v2.post(f"{V2}/customers", {}, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 400
    assert response.json()["name"] == [message]


@pytest.mark.parametrize(
    ("language", "start"), [("pt-BR", "Saldo insuficiente"), ("en", "Insufficient balance")]
)
def test_a_refused_redemption_keeps_its_code_in_both_languages(tenant, maria, language, start):
    body = {
        "date": "2024-06-19 17:13",
        "value": 50,
        "digital_change": 0,
        "pdv": "7",
        "coupon": "1",
        "type": "NF",
    }

    response = tenant.pos.post(
        f"{POS}/consumers/53933515009/balance/redeem", body, format="json", HTTP_ACCEPT_LANGUAGE=language
    )

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_balance"
    assert response.json()["detail"].startswith(start)


@pytest.mark.parametrize(
    ("language", "detail", "route"),
    [
        ("pt-BR", "Não encontrado.", "Nenhum endpoint em /api/v2/nothing-here."),
        ("en", "Not found.", "No endpoint at /api/v2/nothing-here."),
    ],
)
def test_not_found_and_unknown_routes(tenant, language, detail, route):
    missing = tenant.v2.get(f"{V2}/customers/987654", HTTP_ACCEPT_LANGUAGE=language)
    unknown = tenant.v2.get("/api/v2/nothing-here", HTTP_ACCEPT_LANGUAGE=language)

    assert (missing.status_code, unknown.status_code) == (404, 404)
    assert missing.json()["code"] == unknown.json()["code"] == "not_found"
    assert missing.json()["detail"] == detail
    assert unknown.json()["detail"].startswith(route)


@pytest.mark.parametrize(
    ("language", "start"), [("pt-BR", "Erro ao ler o JSON - "), ("en", "JSON parse error - ")]
)
def test_malformed_json(tenant, language, start):
    response = tenant.v2.generic(
        "POST",
        f"{V2}/customers",
        '{"name": "Ana" "cpf": "1"}',
        "application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith(start)


def test_authentication_failures_keep_their_codes(anonymous):
    portuguese = anonymous.get(f"{V2}/customers", HTTP_ACCEPT_LANGUAGE="pt-BR")
    english = anonymous.get(f"{V2}/customers", HTTP_ACCEPT_LANGUAGE="en")

    assert portuguese.status_code == english.status_code == 401
    assert portuguese.json()["code"] == english.json()["code"] == "authorization_missing"
    assert portuguese.json()["detail"] != english.json()["detail"]
