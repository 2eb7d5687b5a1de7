"""Returns of a sale in the admin: the sale's page lists them, and staff record one through a
form (units per barcode, or part of the amount of a sale without items) and a confirmation
page that shows what the return will give back and take back before anything is written.

The confirmation is the return service itself, run and rolled back (`sale_return_preview`):
what the page announces is what confirming does. Recording a return needs the
`sales.cancel_sale` permission: a return is a partial cancel, and a permission of its own
would need a migration.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.backoffice.numbers import LocalDecimalField, money, quantity, signed_money, signed_points
from loyalty.backoffice.timezones import local_datetime
from loyalty.core.errors import DomainError
from loyalty.core.money import AMOUNT_MAX_DIGITS, CENT, MONEY_PLACES, QUANTITY_PLACES, ZERO
from sales.models import Sale, SaleItem, SaleReturn, SaleReturnLine
from sales.outcomes import ReturnedUnits
from sales.services import ReturnConflict, ReturnRefused, sale_return, sale_return_preview

RETURN_PERMISSION = "sales.cancel_sale"

#: The wallet figures a return moves, in the merchant's words, and how each is written.
TAKEN_BACK_FIGURES = {
    "balance": (_("Cashback"), signed_money),
    "pending_balance": (_("Pending cashback"), signed_money),
    "points": (_("Points"), signed_points),
    "pending_points": (_("Pending points"), signed_points),
    "digital_change": (_("Digital change"), signed_money),
    "total_shoppings": (_("Total shopped"), signed_money),
    "total_discounts": (_("Discounts received"), signed_money),
    "count_shoppings": (_("Purchases"), lambda value: f"{int(Decimal(value)):+d}"),
}


@dataclass(frozen=True)
class ReturnableUnits:
    """The units of one barcode of a sale: a return names units by barcode, and the service
    gives them back from the sale's lines of that barcode, first line first."""

    barcode: str
    name: str
    bought: Decimal
    left: Decimal
    #: What the sale's lines of the barcode cost in all.
    total: Decimal


@dataclass(frozen=True)
class Returnable:
    """What is left to return of a sale: units by barcode, or for a sale without items what
    is left of its amount. Nothing of a cancelled sale."""

    units: tuple[ReturnableUnits, ...]
    amount_left: Decimal
    has_items: bool

    @property
    def anything(self) -> bool:
        if self.has_items:
            return any(group.left > 0 for group in self.units)
        return self.amount_left > 0


def sale_returnable(sale: Sale) -> Returnable:
    """What a return of `sale` may still give back (the return service checks it again)."""
    items = list(SaleItem.objects.filter(account_id=sale.account_id, sale=sale).order_by("position"))
    returned = dict(
        SaleReturnLine.objects.filter(account_id=sale.account_id, sale_return__sale=sale)
        .values("item_id")
        .annotate(units=Sum("quantity"))
        .order_by()
        .values_list("item_id", "units")
    )
    earlier = SaleReturn.objects.filter(account_id=sale.account_id, sale=sale).aggregate(
        amount=Coalesce(Sum("amount"), ZERO)
    )["amount"]
    standing = sale.status == Sale.Status.RECORDED
    groups: dict[str, list[SaleItem]] = {}
    for item in items:
        groups.setdefault(item.barcode, []).append(item)
    units = tuple(
        ReturnableUnits(
            barcode=barcode,
            name=lines[0].name,
            bought=sum((line.quantity for line in lines), ZERO),
            left=sum((line.quantity - returned.get(line.pk, ZERO) for line in lines), ZERO)
            if standing
            else ZERO,
            total=sum((line.total for line in lines), ZERO),
        )
        for barcode, lines in groups.items()
    )
    return Returnable(
        units=units,
        amount_left=sale.amount - earlier if standing and not items else ZERO,
        has_items=bool(items),
    )


def taken_back_lines(outcome: Mapping[str, Any]) -> list[str]:
    """What a return took (or will take) back, one sentence a line, from its stored outcome."""
    lines = []
    moved = outcome.get("moved") or {}
    # The rewards first, then the purchase's totals, whatever order the ledger wrote them in.
    rank = {name: index for index, name in enumerate(TAKEN_BACK_FIGURES)}
    for name, value in sorted(moved.items(), key=lambda pair: rank.get(pair[0], len(rank))):
        label, written = TAKEN_BACK_FIGURES.get(name, (name.replace("_", " ").capitalize(), str))
        lines.append(f"{label} {written(value)}")
    for code in outcome.get("vouchers_cancelled") or ():
        lines.append(gettext("Voucher %(code)s cancelled (it was not used)") % {"code": code})
    for voucher in outcome.get("vouchers_charged") or ():
        lines.append(
            gettext("Voucher %(code)s was already used: its %(value)s is taken from the cashback above")
            % {"code": voucher["code"], "value": money(voucher["value"])}
        )
    return lines


def returns_table(sale: Sale) -> str:
    """The sale's returns as a table, times in the staff user's (the account's) time zone."""
    lines = SaleReturnLine.objects.filter(account_id=sale.account_id).select_related("item")
    records = list(
        SaleReturn.objects.filter(account_id=sale.account_id, sale=sale)
        .prefetch_related(Prefetch("lines", queryset=lines.order_by("item__position", "id")))
        .order_by("created_at", "id")
    )
    if not records:
        return gettext("No returns.")

    def units(record: SaleReturn) -> str:
        lines = list(record.lines.all())
        if not lines:
            return gettext("Part of the amount (a sale without items)")
        return "; ".join(
            f"{quantity(line.quantity)} × {line.item.name or line.item.barcode} ({money(line.total)})"
            for line in lines
        )

    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                record.reference,
                local_datetime(record.created_at),
                money(record.amount),
                units(record),
                format_html_join("", "<div>{}</div>", ((line,) for line in taken_back_lines(record.outcome)))
                or "—",
            )
            for record in records
        ),
    )
    return format_html(
        '<table class="sale-returns"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "</tr></thead><tbody>{}</tbody></table>",
        gettext("Reference"),
        gettext("When"),
        gettext("Amount"),
        gettext("Items returned"),
        gettext("Taken back"),
        rows,
    )


class SaleReturnForm(forms.Form):
    """A return of the sale: its reference and, per barcode, how many units come back (or,
    for a sale without items, how much of its amount)."""

    reference = forms.CharField(
        label=_("Reference"),
        max_length=64,
        strip=True,
        help_text=_("The return's id (the ERP's or the receipt's). Each return of a sale has its own."),
    )

    def __init__(self, *args: Any, returnable: Returnable, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.returnable = returnable
        for index, group in enumerate(returnable.units):
            self.fields[self.units_field(index)] = LocalDecimalField(
                label=f"{group.name or group.barcode} ({group.barcode or '—'})",
                required=False,
                initial=0,
                min_value=ZERO,
                max_value=group.left,
                max_digits=AMOUNT_MAX_DIGITS,
                decimal_places=QUANTITY_PLACES,
                disabled=group.left <= 0,
                help_text=gettext("%(bought)s bought for %(total)s; %(left)s left to return.")
                % {
                    "bought": quantity(group.bought),
                    "total": money(group.total),
                    "left": quantity(group.left),
                },
                error_messages={
                    "max_value": gettext("Only %(left)s left to return.") % {"left": quantity(group.left)},
                    "min_value": gettext("Give a quantity of 0 or more."),
                },
            )
        if not returnable.has_items:
            self.fields["amount"] = LocalDecimalField(
                label=gettext("Amount"),
                min_value=CENT,
                max_value=returnable.amount_left,
                max_digits=AMOUNT_MAX_DIGITS,
                decimal_places=MONEY_PLACES,
                help_text=gettext(
                    "The sale has no items: how much of it comes back. %(left)s left to return."
                )
                % {"left": money(returnable.amount_left)},
                error_messages={
                    "max_value": gettext("Only %(left)s left to return.")
                    % {"left": money(returnable.amount_left)},
                },
            )

    @staticmethod
    def units_field(index: int) -> str:
        return f"units_{index}"

    def unit_fields(self) -> list[forms.BoundField]:
        return [self[self.units_field(index)] for index in range(len(self.returnable.units))]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.returnable.has_items and not self.errors and not self.returned_units():
            raise forms.ValidationError(gettext("Give back at least one unit."))
        return cleaned

    def returned_units(self) -> list[ReturnedUnits]:
        asked = (
            (group, self.cleaned_data.get(self.units_field(index)))
            for index, group in enumerate(self.returnable.units)
        )
        return [
            ReturnedUnits(barcode=group.barcode, quantity=units)
            for group, units in asked
            if units and units > 0
        ]

    def service_arguments(self) -> dict[str, Any]:
        """What `sale_return` (and its preview) are called with."""
        if self.returnable.has_items:
            return {"reference": self.cleaned_data["reference"], "items": self.returned_units()}
        return {"reference": self.cleaned_data["reference"], "amount": self.cleaned_data["amount"]}

    def add_refusal(self, error: DomainError) -> None:
        """Show a refusal of the service on the field it is about."""
        field = None
        if isinstance(error, ReturnConflict):
            field = "reference"
        elif isinstance(error, ReturnRefused):
            barcode = error.extra.get("item")
            named = [
                index
                for index, group in enumerate(self.returnable.units)
                if barcode is not None and group.barcode == barcode
            ]
            if named:
                field = self.units_field(named[0])
            elif error.extra.get("field") == "amount" and "amount" in self.fields:
                field = "amount"
        self.add_error(field, error.detail)


def next_reference(sale: Sale) -> str:
    """A reference no return of the sale has yet, for staff without one of their own."""
    taken = set(
        SaleReturn.objects.filter(account_id=sale.account_id, sale=sale).values_list("reference", flat=True)
    )
    number = len(taken) + 1
    while f"DEV-{number}" in taken:
        number += 1
    return f"DEV-{number}"


class SaleReturnAdminMixin:
    """The return pages of `SaleAdmin`, under the sale: `<id>/return/`."""

    admin_site: Any
    model: type[Sale]
    get_queryset: Any
    has_view_permission: Any
    message_user: Any

    def has_return_permission(self, request) -> bool:
        return bool(request.user.has_perm(RETURN_PERMISSION))

    def return_url(self, request, sale: Sale) -> str | None:
        """The return form's address, when this user may return something of this sale."""
        if not self.has_return_permission(request) or not sale_returnable(sale).anything:
            return None
        return reverse("admin:sales_sale_return", args=[sale.pk])

    def return_urls(self) -> list:
        return [
            path(
                "<int:object_id>/return/",
                self.admin_site.admin_view(self.return_view),
                name="sales_sale_return",
            )
        ]

    def return_view(self, request, object_id: int):
        # Looked up in the user's accounts first: another account's sale is a 404, as a missing one.
        sale = get_object_or_404(self.get_queryset(request).select_related("account"), pk=object_id)
        if not (self.has_view_permission(request, sale) and self.has_return_permission(request)):
            raise PermissionDenied
        sale_url = reverse("admin:sales_sale_change", args=[sale.pk])
        returnable = sale_returnable(sale)
        if not returnable.anything:
            self.message_user(request, gettext("Nothing is left to return of this sale."), messages.WARNING)
            return HttpResponseRedirect(sale_url)
        posted = request.method == "POST"
        form = SaleReturnForm(
            request.POST if posted else None,
            returnable=returnable,
            initial={"reference": next_reference(sale)},
        )
        if posted and "_back" not in request.POST and form.is_valid():
            if "_confirm" in request.POST:
                return self._record(request, sale, form, sale_url)
            try:
                preview = sale_return_preview(sale=sale, **form.service_arguments())
            except DomainError as error:
                form.add_refusal(error)
            else:
                if preview.created:
                    return self._render(
                        request,
                        "admin/sales/sale/return_confirmation.html",
                        sale,
                        form,
                        title=gettext("Confirm the return %(reference)s")
                        % {"reference": form.cleaned_data["reference"]},
                        preview=preview,
                        amount=money(preview.amount),
                        taken_back=taken_back_lines(preview.taken_back),
                        line_rows=_line_rows(preview.lines),
                    )
                form.add_error("reference", gettext("A return of this sale already has this reference."))
        return self._render(
            request,
            "admin/sales/sale/return_form.html",
            sale,
            form,
            title=gettext("Return items of %(sale)s") % {"sale": sale},
        )

    def _record(self, request, sale: Sale, form: SaleReturnForm, sale_url: str):
        try:
            # Its own savepoint: a refusal is shown in the form, and the request goes on.
            with transaction.atomic():
                outcome = sale_return(sale=sale, **form.service_arguments())
        except DomainError as error:
            form.add_refusal(error)
            return self._render(
                request,
                "admin/sales/sale/return_form.html",
                sale,
                form,
                title=gettext("Return items of %(sale)s") % {"sale": sale},
            )
        record = outcome.sale_return
        if not outcome.created:
            # The confirmation was sent twice: the first one recorded it.
            self.message_user(
                request,
                gettext("Return %(reference)s was already recorded.") % {"reference": record.reference},
                messages.INFO,
            )
            return HttpResponseRedirect(sale_url)
        taken = "; ".join(taken_back_lines(record.outcome)) or gettext("nothing to take back")
        self.message_user(
            request,
            gettext("Return %(reference)s recorded: %(amount)s given back. Taken back: %(taken)s.")
            % {"reference": record.reference, "amount": money(record.amount), "taken": taken},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(sale_url)

    def _render(
        self, request, template: str, sale: Sale, form: SaleReturnForm, **extra: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "sale": sale,
            "form": form,
            "returnable": form.returnable,
            **extra,
        }
        return TemplateResponse(request, template, context)


def _line_rows(lines: Sequence[Any]) -> list[dict[str, str]]:
    return [
        {
            "name": line.item.name or line.item.barcode,
            "barcode": line.item.barcode,
            "quantity": quantity(line.quantity),
            "total": money(line.total),
            "discount": money(line.discount) if line.discount else "",
        }
        for line in lines
    ]
