"""The engine's side of a return: what each rule granted on the sale, taken back in proportion
(the `sale_returned` receiver), and what a later cancel of the sale must no longer reverse.

The share each rule takes back is `loyalty.engine.rules.returned_share` — the same evaluation
that granted, on the sale's facts and the returned lines — and the amount is
`taken_back`, rounded once on the cumulative share so that returning everything takes back
exactly the grant. A grant still pending is taken back from the pending bucket; an available
one spends its own lots first, as a cancel does. A threshold voucher whose sale no longer
reaches the threshold is cancelled if unused, or its value debited from the cashback balance
if used.
"""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from customers.models import LedgerEntry
from customers.selectors import lots_expired_of, returned_by_rule
from customers.services import Posting, postings_total, wallet_expire_due, wallet_post
from loyalty.core.money import ZERO
from loyalty.engine.rules import (
    CASHBACK,
    POINTS,
    VOUCHER,
    ItemFacts,
    RuleFacts,
    returned_share,
    still_earns_voucher,
    taken_back,
)
from loyalty.engine.services import facts_of_sale, program_in_force
from sales.models import Sale
from sales.outcomes import ReturnedSale, TakenBack
from vouchers.models import Voucher
from vouchers.services import voucher_cancel

GRANT_KINDS = (LedgerEntry.Kind.CASHBACK, LedgerEntry.Kind.POINTS)


def _releases_of(sale: Sale, grants: Sequence[LedgerEntry]) -> dict[int, LedgerEntry]:
    if not any(grant.releases_at is not None for grant in grants):
        return {}
    releases = LedgerEntry.objects.filter(
        account_id=sale.account_id, sale=sale, kind=LedgerEntry.Kind.RELEASE, releases__in=grants
    )
    return {release.releases_id: release for release in releases if release.releases_id is not None}


def rewards_take_back(*, returned: ReturnedSale) -> TakenBack:
    """Take back, for each rule that granted on the sale, the share its eligible amount lost
    with the sale's returns so far, less what earlier returns took (the engine's
    `sale_returned` receiver)."""
    sale, customer = returned.sale, returned.customer
    if customer is None or returned.wallet is None:
        return TakenBack()
    # What is past its end leaves first: it is never taken back a second time.
    wallet, _ = wallet_expire_due(wallet=returned.wallet)
    grants = list(
        LedgerEntry.objects.filter(
            account_id=sale.account_id, sale=sale, kind__in=GRANT_KINDS, reversed_by__isnull=True
        )
        .select_related("store")
        .order_by("id")
    )
    vouchers = list(
        Voucher.objects.filter(
            account_id=sale.account_id,
            sale=sale,
            rule__isnull=False,
            status__in=[Voucher.Status.ACTIVE, Voucher.Status.USED],
        ).order_by("id")
    )
    rule_ids = {grant.rule_id for grant in grants if grant.rule_id} | {
        voucher.rule_id for voucher in vouchers if voucher.rule_id
    }
    if not rule_ids:
        return TakenBack(wallet=wallet)
    program = program_in_force(account_id=sale.account_id, rule_ids=rule_ids)
    facts = {rule.id: rule for rule in program.facts}
    sale_facts = facts_of_sale(sale, returned.items, returned.payments)
    lines = tuple(ItemFacts(total=line.total, category_id=line.item.category_id) for line in returned.lines)

    def share_of(rule: RuleFacts) -> Decimal:
        return returned_share(rule, sale_facts, lines, returned.amount)

    postings = _grants_taken_back(returned, grants, facts, share_of)
    cancelled: list[Voucher] = []
    charged: list[Voucher] = []
    for voucher in vouchers:
        rule = facts.get(voucher.rule_id) if voucher.rule_id else None
        if rule is None or rule.kind != VOUCHER or still_earns_voucher(rule, sale_facts, share_of(rule)):
            continue
        if voucher.status == Voucher.Status.ACTIVE:
            cancelled.append(voucher_cancel(voucher=voucher))
        elif not _charged_already(sale, voucher):
            charged.append(voucher)
            postings.append(
                Posting(
                    kind=LedgerEntry.Kind.RETURN,
                    deltas={"balance": -voucher.value},
                    reason=f"Return {returned.sale_return.reference}: voucher {voucher.code} was already used",
                    store=sale.store,
                    links={
                        "sale": sale,
                        "rule_id": voucher.rule_id,
                        "voucher": voucher,
                        "sale_return": returned.sale_return,
                    },
                )
            )
    # The customer may have spent what is taken back already: the return may leave a debt.
    wallet = wallet_post(postings=postings, locked_wallet=wallet, overdraw=True)
    return TakenBack(
        moved=postings_total(postings),
        vouchers_cancelled=tuple(cancelled),
        vouchers_charged=tuple(charged),
        wallet=wallet,
    )


def _grants_taken_back(
    returned: ReturnedSale,
    grants: Sequence[LedgerEntry],
    facts: Mapping[int, RuleFacts],
    share_of: Callable[[RuleFacts], Decimal],
) -> list[Posting]:
    sale = returned.sale
    releases = _releases_of(sale, grants)
    already = returned_by_rule(sale=sale)
    expired = lots_expired_of(account_id=sale.account_id, entries=[*grants, *releases.values()])
    postings = []
    for grant in grants:
        rule = facts.get(grant.rule_id) if grant.rule_id else None
        if rule is None:
            continue
        points = grant.kind == LedgerEntry.Kind.POINTS
        bucket = "points" if points else "balance"
        granted = Decimal(getattr(grant, bucket)) + Decimal(getattr(grant, f"pending_{bucket}"))
        release = releases.get(grant.pk)
        holder = release or grant
        gone = expired.get(holder.pk, {}).get(bucket, ZERO)
        took = sum(already.get(rule.id, {}).values(), ZERO)
        amount = max(
            taken_back(
                granted=granted - gone,
                already=took,
                share=share_of(rule),
                kind=POINTS if points else CASHBACK,
            ),
            ZERO,
        )
        if amount <= 0:
            continue
        still_pending = grant.releases_at is not None and release is None
        postings.append(
            Posting(
                kind=LedgerEntry.Kind.RETURN,
                deltas={f"pending_{bucket}" if still_pending else bucket: -amount},
                reason=f"Return {returned.sale_return.reference}: {grant.reason}",
                store=grant.store,
                links={"sale": sale, "rule_id": grant.rule_id, "sale_return": returned.sale_return},
                takes_back=None if still_pending else holder,
            )
        )
    return postings


def _charged_already(sale: Sale, voucher: Voucher) -> bool:
    return LedgerEntry.objects.filter(
        account_id=sale.account_id, sale=sale, kind=LedgerEntry.Kind.RETURN, voucher=voucher
    ).exists()
