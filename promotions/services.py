"""Writes of the promotions app: the category tree, products, promotions and their uses."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import Customer
from loyalty.core.errors import NotFoundError
from loyalty.tenancy.models import Account
from promotions.models import Category, Product, Promotion, PromotionUse
from promotions.selectors import PromotionWithUses, category_find


class PromotedSale(Protocol):
    """A sale, as its promotion uses record it (the sales app, a floor above, owns the model)."""

    @property
    def pk(self) -> int: ...
    @property
    def account_id(self) -> int: ...


class DuplicateCategory(Exception):
    """The parent already has a child of that name (names compare case-insensitively)."""

    def __init__(self, existing: Category) -> None:
        super().__init__(f"category {existing.name!r} already exists (id {existing.pk})")
        self.existing = existing


def _check_parent(account: Account, parent: Category | None) -> None:
    if parent is not None and parent.account_id != account.pk:
        raise NotFoundError(gettext("No such parent category in this account."))


def _category_get_or_insert(account: Account, name: str, parent: Category | None) -> tuple[Category, bool]:
    _check_parent(account, parent)
    name = name.strip()
    existing = category_find(account=account, name=name, parent=parent)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Category.objects.create(account=account, name=name, parent=parent), True
    except IntegrityError:
        # Another request inserted it between the lookup and the insert.
        existing = category_find(account=account, name=name, parent=parent)
        if existing is None:
            raise
        return existing, False


@transaction.atomic(savepoint=False)
def category_create(*, account: Account, name: str, parent: Category | None = None) -> Category:
    """A new category of the account; `DuplicateCategory` when the parent has one of that name."""
    category, created = _category_get_or_insert(account, name, parent)
    if not created:
        raise DuplicateCategory(category)
    return category


@transaction.atomic(savepoint=False)
def category_get_or_create(*, account: Account, name: str, parent: Category | None = None) -> Category:
    """The parent's child with this name (any case), created if new; race-safe."""
    category, _ = _category_get_or_insert(account, name, parent)
    return category


@transaction.atomic(savepoint=False)
def product_upsert(
    *,
    account: Account,
    barcode: str,
    name: str,
    unit: str,
    price: Decimal,
    active: bool = True,
    category: str | None = None,
    subcategory: str | None = None,
) -> tuple[Product, bool]:
    """Create or replace the account's product with this barcode; True when it is new.

    `category` and `subcategory` are names: the root category and its child are reused
    when they exist (any case) and created otherwise. No category means none.
    """
    root = category_get_or_create(account=account, name=category) if category else None
    child = (
        category_get_or_create(account=account, name=subcategory, parent=root)
        if root and subcategory
        else None
    )
    values = {
        "name": name.strip(),
        "unit": unit,
        "price": price,
        "active": active,
        "category": root,
        "subcategory": child,
    }
    product = Product.objects.select_for_update().filter(account=account, barcode=barcode).first()
    if product is None:
        try:
            with transaction.atomic():
                return Product.objects.create(account=account, barcode=barcode, **values), True
        except IntegrityError:
            # Two tills registered the same new barcode at once: the other insert won.
            product = Product.objects.select_for_update().get(account=account, barcode=barcode)
    for field, value in values.items():
        setattr(product, field, value)
    product.save()
    return product, False


@dataclass(frozen=True)
class PromotionTerms:
    """What a promotion offers: everything the merchant sets, on creation and on replacement."""

    product: Product
    percent_off: Decimal
    starts_at: datetime
    expires_at: datetime | None = None
    limit: int = 0
    quantity_limit: Decimal = Decimal(0)
    minimum_quantity: Decimal = Decimal(0)
    active: bool = True

    def values(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _check_terms(account_id: int, terms: PromotionTerms) -> None:
    if terms.product.account_id != account_id:
        raise NotFoundError(gettext("No such product in this account."))
    if terms.expires_at is not None and terms.expires_at <= terms.starts_at:
        raise ValidationError(
            {"expires_at": gettext("Must be after starts_at, or empty for an open-ended promotion.")}
        )


@transaction.atomic(savepoint=False)
def promotion_create(*, account: Account, terms: PromotionTerms) -> Promotion:
    _check_terms(account.pk, terms)
    return Promotion.objects.create(account=account, **terms.values())


@transaction.atomic(savepoint=False)
def promotion_update(*, promotion: Promotion, terms: PromotionTerms) -> Promotion:
    """Replace the promotion's terms. Uses already recorded keep counting toward `limit`."""
    _check_terms(promotion.account_id, terms)
    for name, value in terms.values().items():
        setattr(promotion, name, value)
    promotion.save()
    return promotion


@transaction.atomic(savepoint=False)
def promotion_disable(*, promotion: Promotion) -> Promotion:
    """Withdraw the promotion: it leaves the lists and quotes, and stays in purchase history."""
    if promotion.disabled_at is None:
        promotion.disabled_at = timezone.now()
        promotion.save(update_fields=["disabled_at", "updated_at"])
    return promotion


@transaction.atomic(savepoint=False)
def promotion_set_active(*, promotion: Promotion, active: bool) -> Promotion:
    """The merchant's switch. Activating also brings back a withdrawn (disabled) promotion."""
    promotion.active = active
    if active:
        promotion.disabled_at = None
    promotion.save(update_fields=["active", "disabled_at", "updated_at"])
    return promotion


def promotion_uses_record(
    *, sale: PromotedSale, customer: Customer, promotions: Sequence[PromotionWithUses]
) -> list[PromotionWithUses]:
    """Record one use of each promotion by the sale's consumer.

    `promotions` come from `promotions_with_uses` for this customer, read under the lock
    of the customer's wallet so that two tills selling to one consumer count each other's
    uses. A sale that happened is never refused: when the consumer had already reached a
    promotion's `limit` (another till got there first), the use is still recorded and the
    promotion is returned, so the caller can warn. Its one write (a bulk insert) is
    atomic by itself; it runs inside the recording's transaction.
    """
    if not promotions:
        return []
    PromotionUse.objects.bulk_create(
        [
            PromotionUse(account_id=sale.account_id, promotion=promotion, customer=customer, sale_id=sale.pk)
            for promotion in promotions
        ]
    )
    return [
        promotion for promotion in promotions if promotion.limit and promotion.live_uses >= promotion.limit
    ]


def promotion_uses_release(*, sale: PromotedSale, promotion_ids: Sequence[int] | None = None) -> int:
    """Release the promotion uses of a cancelled sale (or, on a return, of the `promotion_ids`
    whose units all came back); they no longer count toward limits.

    One UPDATE statement: atomic by itself.
    """
    uses = PromotionUse.objects.filter(account_id=sale.account_id, sale_id=sale.pk, released=False)
    if promotion_ids is not None:
        uses = uses.filter(promotion_id__in=promotion_ids)
    return uses.update(released=True, released_at=timezone.now())
