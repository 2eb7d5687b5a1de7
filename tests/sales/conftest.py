"""Fixtures of the sales tests: a program with cashback and points rules."""

from decimal import Decimal

import pytest

from loyalty.engine.program import rule_create


@pytest.fixture
def cashback_rule(tenant):
    return rule_create(account=tenant.account, name="5% cashback", kind="cashback", value=Decimal("5"))


@pytest.fixture
def points_rule(tenant):
    return rule_create(account=tenant.account, name="1 point per real", kind="points", value=Decimal("1"))


@pytest.fixture
def program(cashback_rule, points_rule):
    return [cashback_rule, points_rule]
