"""Fixtures of the security tests: accounts A ("Alfa") and B ("Beta"), each holding one
object of every kind (`tests/security/holdings.py`)."""

import pytest

from tests.security.holdings import Holdings, hold


@pytest.fixture
def alfa(tenant) -> Holdings:
    return hold(
        tenant, label="Alfa", document="53933515009", phone="(11) 98765-4321", barcode="70000000000011"
    )


@pytest.fixture
def beta(other_tenant) -> Holdings:
    return hold(
        other_tenant, label="Beta", document="52998224725", phone="(21) 99876-5432", barcode="80000000000022"
    )
