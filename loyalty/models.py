"""Models of the engine core: tenancy, reward rules and their simulations, communications,
webhooks, idempotency keys."""

# Registers the change history of rules, promotions, rewards and templates (its models live here).
import loyalty.shell.history  # noqa: F401
from loyalty.api.models import IdempotencyKey
from loyalty.engine.models import RewardRule, RuleCategory, RuleStore
from loyalty.engine.simulation.models import Simulation
from loyalty.outbox.models import Channel, Event, Message, MessageAttempt, MessageTemplate
from loyalty.outbox.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from loyalty.tenancy.models import Account, ApiCredential, Membership, Store

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
    "RuleCategory",
    "RuleStore",
    "Simulation",
    "Store",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
