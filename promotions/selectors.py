"""Reads of the promotions app: categories, products, live promotions and the discount quote."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.db import models
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import pgettext_lazy

from loyalty.core.money import round_money
from loyalty.tenancy.models import Account
from promotions.models import Category, Product, Promotion, PromotionUse

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

HUNDRED = Decimal(100)


class LiveUses(TypedDict):
    live_uses: int


class InEffect(TypedDict):
    barcode: str


#: A promotion read with the customer's unreleased uses of it (`live_uses_count`).
PromotionWithUses: TypeAlias = "WithAnnotations[Promotion, LiveUses]"
#: A promotion in effect, with its product's barcode.
PromotionInEffect: TypeAlias = "WithAnnotations[Promotion, InEffect]"


def live_uses_count(*, account_id: int, customer_id: int | None) -> Coalesce:
    """A promotion's unreleased uses by the customer (none without a customer), as a subquery.

    It reads the (promotion, customer) index: a join would read every use of a popular
    promotion by every consumer.
    """
    uses = PromotionUse.objects.filter(account_id=account_id, promotion=OuterRef("pk"), released=False)
    # No customer, no uses: the column is never null.
    uses = (
        uses.filter(customer_id=customer_id)
        if customer_id is not None
        else uses.filter(customer__isnull=True)
    )
    counts = uses.order_by().values("promotion").annotate(total=Count("id")).values("total")
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def promotions_with_uses(
    *, account_id: int, ids: Iterable[int], customer_id: int | None
) -> list[PromotionWithUses]:
    """The account's promotions among `ids`, each with its product and the customer's live uses.

    A sale's items name their promotions: this one query checks that they are the
    account's and tells which the consumer has already used up to their `limit`.
    """
    ids = sorted(set(ids))
    if not ids:
        return []
    return list(
        Promotion.objects.filter(pk__in=ids, account_id=account_id)
        # The limit warnings name each promotion by its product.
        .select_related("product")
        .annotate(live_uses=live_uses_count(account_id=account_id, customer_id=customer_id))
        .order_by()
    )


@dataclass(frozen=True)
class LineCatalogue:
    """What the account's catalogue knows of a sale's lines, each kind read once.

    `products` by barcode; `categories` by (parent id, lower-cased name) for the lines whose
    product has none; `promotions` by id, each with its product and the customer's live uses.
    """

    products: dict[str, Product]
    categories: dict[tuple[int | None, str], Category]
    promotions: dict[int, PromotionWithUses]

    def category_of(self, *, barcode: str, category: str, subcategory: str) -> int | None:
        """The most specific category known for a line: its product's, else the one it names."""
        product = self.products.get(barcode)
        if product is not None and (product.subcategory_id or product.category_id):
            return product.subcategory_id or product.category_id
        root = self.categories.get((None, category.strip().lower())) if category.strip() else None
        if root is None:
            return None
        child = self.categories.get((root.pk, subcategory.strip().lower())) if subcategory.strip() else None
        return (child or root).pk


def line_catalogue(
    *,
    account_id: int,
    barcodes: Iterable[str],
    category_names: Callable[[dict[str, Product]], Iterable[str]],
    promotion_ids: Iterable[int],
    customer_id: int | None,
) -> LineCatalogue:
    """The products, categories and promotions a sale's lines name, in at most three queries.

    `category_names` gives, from the products found, the names to look up for the lines that
    still need one (a line whose product has a category needs none).
    """
    barcodes = {barcode for barcode in barcodes if barcode}
    products = (
        {
            product.barcode: product
            for product in Product.objects.filter(account_id=account_id, barcode__in=barcodes)
            .only("id", "barcode", "category_id", "subcategory_id")
            .order_by()
        }
        if barcodes
        else {}
    )
    names = {name.strip().lower() for name in category_names(products) if name.strip()}
    categories: dict[tuple[int | None, str], Category] = (
        {
            (category.parent_id, category.lower_name): category
            for category in Category.objects.annotate(lower_name=Lower("name")).filter(
                account_id=account_id, lower_name__in=names
            )
        }
        if names
        else {}
    )
    promotions = {
        promotion.pk: promotion
        for promotion in promotions_with_uses(
            account_id=account_id, ids=promotion_ids, customer_id=customer_id
        )
    }
    return LineCatalogue(products=products, categories=categories, promotions=promotions)


# --- categories ---------------------------------------------------------------------


def category_find(*, account: Account, name: str, parent: Category | None = None) -> Category | None:
    """The parent's child (a root category when `parent` is None) with this name, in any case."""
    return (
        Category.objects.filter(account=account, parent=parent, name__iexact=name.strip())
        .order_by("id")
        .first()
    )


def product_count_subquery(*, account_id: int | None) -> Coalesce:
    """How many products have the category as their category or subcategory (one subquery).

    `account_id` names the categories' account when they are all of one (a request's); else
    each category's own account is used.
    """
    account: int | OuterRef = account_id if account_id is not None else OuterRef("account_id")
    counts = (
        Product.objects.filter(Q(category=OuterRef("pk")) | Q(subcategory=OuterRef("pk")), account_id=account)
        .order_by()
        .values("account")  # one group: a category's products are all of its account
        .annotate(total=Count("id"))
        .values("total")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def category_queryset(*, account: Account) -> QuerySet[Category]:
    """The account's categories with their `product_count`, alphabetically."""
    return (
        Category.objects.filter(account=account)
        .annotate(product_count=product_count_subquery(account_id=account.pk))
        .order_by("name", "id")
    )


# --- products and promotions --------------------------------------------------------


def product_queryset(*, account: Account) -> QuerySet[Product]:
    """The account's products, newest first, with their category names at hand."""
    return (
        Product.objects.filter(account=account)
        .select_related("category", "subcategory")
        .order_by("-created_at", "-id")
    )


def product_by_barcode(*, account: Account, barcode: str) -> Product | None:
    return (
        Product.objects.filter(account=account, barcode=barcode)
        .select_related("category", "subcategory")
        .first()
    )


def promotion_queryset(*, account: Account) -> QuerySet[Promotion]:
    """The account's promotions that were not withdrawn, newest first, with their products."""
    return (
        Promotion.objects.filter(account=account, disabled_at__isnull=True)
        .select_related("product__category", "product__subcategory")
        .order_by("-created_at", "-id")
    )


class PromotionStatus(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("promotion status", "Scheduled")
    ACTIVE = "active", pgettext_lazy("promotion status", "Active")
    EXPIRED = "expired", pgettext_lazy("promotion status", "Expired")
    DISABLED = "disabled", pgettext_lazy("promotion status", "Disabled")


def promotion_status(promotion: Promotion, *, at: datetime) -> PromotionStatus:
    """Disabled when withdrawn or switched off; otherwise where `at` falls in its window."""
    if promotion.disabled_at is not None or not promotion.active:
        return PromotionStatus.DISABLED
    if promotion.starts_at > at:
        return PromotionStatus.SCHEDULED
    if promotion.expires_at is not None and promotion.expires_at <= at:
        return PromotionStatus.EXPIRED
    return PromotionStatus.ACTIVE


def promotion_status_condition(status: PromotionStatus, *, at: datetime) -> Q:
    """The filter of the promotions whose `promotion_status` at `at` is `status`."""
    live = Q(disabled_at__isnull=True, active=True)
    if status == PromotionStatus.DISABLED:
        return ~live
    if status == PromotionStatus.SCHEDULED:
        return live & Q(starts_at__gt=at)
    if status == PromotionStatus.EXPIRED:
        return live & Q(expires_at__lte=at)
    return live & Q(starts_at__lte=at) & (Q(expires_at__isnull=True) | Q(expires_at__gt=at))


# --- the discount quote ---------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLine:
    """A product of the basket: its unit value and how many units the purchase holds."""

    barcode: str
    unit_value: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class QuotedDiscount:
    barcode: str
    promotion_id: int
    price: Decimal
    final_price: Decimal
    discount: Decimal


def merge_lines(lines: Iterable[QuoteLine]) -> dict[str, QuoteLine]:
    """One line per barcode: a product scanned on several lines is one purchase of their units.

    Minimum quantities and quantity limits count the units of the whole purchase, so the
    quantities are summed; the unit value is the first line's (the API refuses lines of one
    barcode with different unit values).
    """
    merged: dict[str, QuoteLine] = {}
    for line in lines:
        first = merged.get(line.barcode)
        merged[line.barcode] = (
            line
            if first is None
            else QuoteLine(
                barcode=line.barcode, unit_value=first.unit_value, quantity=first.quantity + line.quantity
            )
        )
    return merged


def promotion_discount(promotion: Promotion, line: QuoteLine) -> QuotedDiscount | None:
    """What the promotion takes from the line, or None when the line does not qualify."""
    if line.quantity < promotion.minimum_quantity:
        return None
    units = min(line.quantity, promotion.quantity_limit) if promotion.quantity_limit > 0 else line.quantity
    rate = promotion.percent_off / HUNDRED
    return QuotedDiscount(
        barcode=line.barcode,
        promotion_id=promotion.pk,
        price=line.unit_value,
        final_price=round_money(line.unit_value * (1 - rate)),
        discount=round_money(line.unit_value * rate * units),
    )


def promotions_in_effect(
    *, account: Account, barcodes: Iterable[str], at: datetime
) -> QuerySet[PromotionInEffect]:
    """The promotions of these products in effect at `at`, oldest first.

    In effect: switched on, not withdrawn, `starts_at` ≤ `at` < `expires_at`, of an active product.
    """
    return (
        Promotion.objects.filter(
            account=account,
            # The product's account too, though it is the promotion's: with it the barcodes
            # are found through the (account, barcode) index instead of a scan of the catalogue.
            product__account=account,
            product__barcode__in=list(barcodes),
            product__active=True,
            active=True,
            disabled_at__isnull=True,
            starts_at__lte=at,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .annotate(barcode=F("product__barcode"))
        .order_by("id")
    )


def discount_quote(
    *, account: Account, customer_id: int | None, lines: Iterable[QuoteLine], at: datetime
) -> dict[str, QuotedDiscount]:
    """The best discount of each basket line the consumer may have at `at`, keyed by barcode.

    A read: it writes nothing, and costs one query whatever the size of the basket (the
    promotions of every barcode at once, each with the consumer's uses of it).
    Of several promotions on one product, the largest discount wins; on a tie, the oldest.
    """
    basket = merge_lines(lines)
    if not basket:
        return {}
    promotions = promotions_in_effect(account=account, barcodes=basket, at=at).annotate(
        live_uses=live_uses_count(account_id=account.pk, customer_id=customer_id)
    )
    best: dict[str, QuotedDiscount] = {}
    for promotion in promotions:
        if promotion.limit and promotion.live_uses >= promotion.limit:
            continue
        quoted = promotion_discount(promotion, basket[promotion.barcode])
        current = best.get(promotion.barcode)
        # Promotions come in id order, so a tie keeps the oldest.
        if quoted is not None and (current is None or quoted.discount > current.discount):
            best[promotion.barcode] = quoted
    return {barcode: best[barcode] for barcode in basket if barcode in best}
