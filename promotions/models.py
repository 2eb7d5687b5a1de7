"""Products, their category tree, product promotions and the uses of promotions.

A promotion takes `percent_off` from each discounted unit of one product, within its
window and limits (see the POS API documentation). A promotion use records that a
consumer bought with the promotion: the `limit` per consumer counts unreleased uses.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.core.fields import MoneyField, QuantityField
from loyalty.core.vocabulary import Unit
from loyalty.tenancy.models import Account

BARCODE_VALIDATOR = RegexValidator(r"^[0-9]{1,20}$", _("A barcode is 1 to 20 digits (0-9)."))


class Category(models.Model):
    """A node of the account's category tree; names are unique (case-insensitively) per parent."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="categories", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                "account", Lower("name"), condition=Q(parent__isnull=True), name="category_root_name_unique"
            ),
            models.UniqueConstraint(
                "account",
                "parent",
                Lower("name"),
                condition=Q(parent__isnull=False),
                name="category_child_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name


class Product(models.Model):
    """A product of the account, keyed by its barcode."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="products", verbose_name=_("account")
    )
    barcode = models.CharField(_("barcode"), max_length=20, validators=[BARCODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=2, choices=Unit.choices)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("category"),
    )
    subcategory = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subcategory_products",
        verbose_name=_("subcategory"),
    )
    price = MoneyField(_("price"), validators=[MinValueValidator(0)])
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["account", "barcode"], name="product_barcode_unique_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.barcode})"


class Promotion(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="promotions", verbose_name=_("account")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="promotions", verbose_name=_("product")
    )
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Discount on each discounted unit: more than 0, at most 100."),
    )
    limit = models.PositiveIntegerField(
        _("limit per customer"),
        default=0,
        help_text=_("Purchases one consumer (CPF/CNPJ) may make with it; 0 means no limit."),
    )
    quantity_limit = QuantityField(
        _("quantity limit"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Units of one purchase that get the discount; 0 means all of them."),
    )
    minimum_quantity = QuantityField(
        _("minimum quantity"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Units of the product the purchase needs for the discount to apply."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: open-ended.")
    )
    disabled_at = models.DateTimeField(
        _("disabled at"),
        null=True,
        blank=True,
        help_text=_("Set when deleted: it leaves the lists but stays in purchase history."),
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("The merchant's switch."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_off__gt=0, percent_off__lte=100), name="promotion_percent_off_range"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("starts_at")),
                name="promotion_expires_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "product"],
                condition=Q(disabled_at__isnull=True),
                name="promotion_live_by_product",
            ),
        ]

    def __str__(self) -> str:
        if self.product_id:
            return gettext("%(percent_off)s%% off %(product)s") % {
                # 12,5 in pt-BR, 12.5 in English: no needless zeros.
                "percent_off": number_format(self.percent_off.normalize() if self.percent_off else 0),
                "product": self.product.name,
            }
        return gettext("Promotion #%(id)s") % {"id": self.pk}


class PromotionUse(models.Model):
    """A consumer bought with a promotion. Cancelling the purchase releases the use."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="uses", verbose_name=_("promotion")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="promotion_uses",
        verbose_name=_("customer"),
    )
    sale = models.ForeignKey(
        "sales.Sale", on_delete=models.PROTECT, related_name="promotion_uses", verbose_name=_("sale")
    )
    released = models.BooleanField(_("released"), default=False)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("promotion use")
        verbose_name_plural = _("promotion uses")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "promotion", "sale"], name="promotion_use_once_per_sale"
            ),
        ]
        indexes = [
            models.Index(
                fields=["promotion", "customer"], condition=Q(released=False), name="promotion_use_live"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Use of %(promotion)s by customer %(customer)s") % {
            "promotion": self.promotion_id,
            "customer": self.customer_id,
        }
