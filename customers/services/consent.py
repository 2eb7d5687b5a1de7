"""Marketing consent (LGPD): per customer and channel, given or withdrawn, with when and where.

Every change is a new `ConsentChange` row, never updated. `CustomerConsent` holds the current
state of each channel and changes only here, in the same transaction as the row that records
the change: the customer's representation and the outbox (before it queues a marketing
message, on the purchase's path) read the state with one indexed lookup instead of searching
a growing history for the latest row of each channel, and the state's row is what two
concurrent changes of one channel lock. Setting what is already set writes nothing.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import ConsentChange, ConsentSource, Customer, CustomerConsent
from loyalty.core.errors import ConflictError
from loyalty.outbox.models import Channel
from loyalty.tenancy.models import Store

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the project's AUTH_USER_MODEL

CHANNELS: tuple[str, ...] = tuple(Channel.values)


def _check(customer: Customer, changes: Mapping[str, bool], source: str, store: Store | None) -> None:
    unknown = sorted(set(changes) - set(CHANNELS))
    if unknown:
        raise ValueError(f"Unknown consent channel(s) {unknown}; valid ones: {list(CHANNELS)}.")
    if not all(isinstance(granted, bool) for granted in changes.values()):
        raise ValueError("Consent is given (True) or withdrawn (False).")
    if source not in ConsentSource.values:
        raise ValueError(f"Unknown consent source {source!r}.")
    if store is not None and store.account_id != customer.account_id:
        raise ValueError("The store belongs to another account.")
    if customer.anonymized_at:
        raise ConflictError(
            gettext("This customer was anonymised and can no longer be changed."), code="anonymized"
        )


def _locked_states(customer: Customer, channels: list[str]) -> dict[str, CustomerConsent]:
    states = CustomerConsent.objects.select_for_update().filter(
        account_id=customer.account_id, customer_id=customer.pk, channel__in=channels
    )
    return {state.channel: state for state in states}


@transaction.atomic(savepoint=False)
def consents_set(
    *,
    customer: Customer,
    changes: Mapping[str, bool],
    source: str,
    store: Store | None = None,
    staff_user: "User | None" = None,
    occurred_at: datetime | None = None,
) -> list[ConsentChange]:
    """Give (True) or withdraw (False) the customer's marketing consent on each channel named;
    returns the history rows written, one per channel whose state changed (in channel order).

    A customer never asked has no consent; their first answer, yes or no, is a change.
    `occurred_at` is when they answered (default now); the answer becomes the current state.
    """
    _check(customer, changes, source, store)
    channels = [channel for channel in CHANNELS if channel in changes]
    if not channels:
        return []
    when = occurred_at or timezone.now()
    signed: dict[str, Any] = {"changed_at": when, "source": source, "store": store}
    states = _locked_states(customer, channels)
    first = [channel for channel in channels if channel not in states]
    if first:
        try:
            # A savepoint: another request may be giving this customer's first answer on one
            # of these channels at this very moment. Its rows then exist: start again from them.
            with transaction.atomic():
                CustomerConsent.objects.bulk_create(
                    [
                        CustomerConsent(
                            account_id=customer.account_id,
                            customer=customer,
                            channel=channel,
                            granted=changes[channel],
                            **signed,
                        )
                        for channel in first
                    ]
                )
        except IntegrityError:
            return consents_set(
                customer=customer,
                changes=changes,
                source=source,
                store=store,
                staff_user=staff_user,
                occurred_at=when,
            )
    changed = first + [channel for channel, state in states.items() if state.granted != changes[channel]]
    for granted in (True, False):
        moved = [
            states[channel].pk for channel in changed if channel in states and changes[channel] is granted
        ]
        if moved:
            CustomerConsent.objects.filter(account_id=customer.account_id, pk__in=moved).update(
                granted=granted, **signed
            )
    return ConsentChange.objects.bulk_create(
        [
            ConsentChange(
                account_id=customer.account_id,
                customer=customer,
                channel=channel,
                granted=changes[channel],
                source=source,
                store=store,
                staff_user=staff_user,
                occurred_at=when,
            )
            for channel in CHANNELS
            if channel in changed
        ]
    )


@transaction.atomic(savepoint=False)
def consent_set(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    store: Store | None = None,
    staff_user: "User | None" = None,
    occurred_at: datetime | None = None,
) -> ConsentChange | None:
    """Give or withdraw the customer's marketing consent on one channel: the history row
    written, or None when it was already so (nothing is written)."""
    written = consents_set(
        customer=customer,
        changes={channel: granted},
        source=source,
        store=store,
        staff_user=staff_user,
        occurred_at=occurred_at,
    )
    return written[0] if written else None
