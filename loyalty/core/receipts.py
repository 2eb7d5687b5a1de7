"""How a till names a purchase: its fiscal receipt (`pdv` + `coupon`) or its `reference`.

Within a store, a sale type and a local day, a purchase is identified by `pdv` + `coupon`
when both are sent — the fiscal receipt of one till — and otherwise by its `reference`.
When both forms are sent the receipt identifies the purchase and the reference is kept: it
still names the purchase for cancel and redemptions. Two tills of one store may both use
reference "11" on the same day; their receipts tell them apart.

Purchases and balance redemptions follow the same rule, enforced by the unique constraints
that `identity_constraints` builds for each.
"""

import operator
from dataclasses import dataclass
from functools import reduce

from django.db.models import Q, UniqueConstraint

#: Rows identified by their fiscal receipt.
BY_RECEIPT = ~Q(pdv="") & ~Q(coupon="")
#: Rows identified by their reference: they lack a whole fiscal receipt.
BY_REFERENCE = ~Q(reference="") & (Q(pdv="") | Q(coupon=""))
#: The scope of an identity besides the receipt: the store's account, the store, type and day.
IDENTITY_SCOPE = ("account", "store", "type", "local_date")


@dataclass(frozen=True)
class Receipt:
    """The keys a till sends to name a purchase (or a redemption made at it)."""

    reference: str = ""
    pdv: str = ""
    coupon: str = ""

    @classmethod
    def of(
        cls, *, reference: str | None = None, pdv: str | None = None, coupon: str | None = None
    ) -> "Receipt":
        """The keys as sent, blank-stripped; `None` (JSON null) is no key."""
        return cls(
            reference=(reference or "").strip(), pdv=(pdv or "").strip(), coupon=(coupon or "").strip()
        )

    @property
    def is_fiscal(self) -> bool:
        return bool(self.pdv and self.coupon)

    def __bool__(self) -> bool:
        return self.is_fiscal or bool(self.reference)

    def identity(self) -> Q:
        """The one row these keys identify (within store, type and day)."""
        if self.is_fiscal:
            return Q(pdv=self.pdv, coupon=self.coupon)
        if self.reference:
            return Q(reference=self.reference) & (Q(pdv="") | Q(coupon=""))
        raise ValueError("A receipt needs pdv and coupon, or a reference.")

    def naming(self) -> Q:
        """Every purchase these keys may name: the fiscal receipt names one; a reference alone
        names every purchase that carries it, whatever receipt was sent with it."""
        if self.is_fiscal:
            return self.identity()
        if self.reference:
            return Q(reference=self.reference)
        raise ValueError("A receipt needs pdv and coupon, or a reference.")

    def sharing_a_key(self) -> Q:
        """Rows that carry this fiscal receipt or this reference: those that may name the
        same purchase (see `names_the_same_purchase`)."""
        ways = []
        if self.is_fiscal:
            ways.append(Q(pdv=self.pdv, coupon=self.coupon))
        if self.reference:
            ways.append(Q(reference=self.reference))
        if not ways:
            raise ValueError("A receipt needs pdv and coupon, or a reference.")
        return reduce(operator.or_, ways)

    def names_the_same_purchase(self, other: "Receipt", *, reference_is_unique: bool) -> bool:
        """Whether `other` (the keys of a redemption, say) names the purchase of these keys.

        Two fiscal receipts must be the same. Otherwise the references must be, and the
        reference must name no other purchase of the day: a reference two tills both used
        cannot tell which of their purchases a redemption belongs to.
        """
        if self.is_fiscal and other.is_fiscal:
            return (self.pdv, self.coupon) == (other.pdv, other.coupon)
        return bool(self.reference) and self.reference == other.reference and reference_is_unique

    def as_fields(self) -> dict[str, str]:
        return {"reference": self.reference, "pdv": self.pdv, "coupon": self.coupon}


def identity_constraints(*, prefix: str, scope: Q | None = None) -> list[UniqueConstraint]:
    """One row per receipt, and one per reference among rows without a receipt."""
    scope = scope if scope is not None else Q()
    return [
        UniqueConstraint(
            fields=[*IDENTITY_SCOPE, "pdv", "coupon"],
            condition=scope & BY_RECEIPT,
            name=f"{prefix}_receipt_unique",
        ),
        UniqueConstraint(
            fields=[*IDENTITY_SCOPE, "reference"],
            condition=scope & BY_REFERENCE,
            name=f"{prefix}_reference_unique",
        ),
    ]
