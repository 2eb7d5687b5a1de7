"""Models of the engine core: tenancy, reward rules, communications, idempotency keys."""

from loyalty.models.idempotency import IdempotencyKey
from loyalty.models.messages import Channel, Event, Message, MessageAttempt, MessageTemplate
from loyalty.models.rules import RewardRule
from loyalty.models.tenancy import Account, ApiCredential, Membership, Store

__all__ = [
    "Account",
    "ApiCredential",
    "Channel",
    "Event",
    "IdempotencyKey",
    "Membership",
    "Message",
    "MessageAttempt",
    "MessageTemplate",
    "RewardRule",
    "Store",
]
