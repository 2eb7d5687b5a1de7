"""Who changed what a merchant configures, when, and each field before and after.

Rules, promotions, catalogue rewards and message templates keep their history with
django-simple-history: every save through the admin or the API writes a historical row in
the same transaction, signed by the staff user of the request (none for the API, whose
callers are stores and credentials, not people). The object's admin page shows it
(`loyalty.backoffice.history`).
"""

from django.contrib.auth import get_user_model
from simple_history import register

from loyalty.engine.models import RewardRule
from loyalty.outbox.models import MessageTemplate
from promotions.models import Promotion
from vouchers.models import Reward

#: What changes on every save and says nothing a person chose.
NOT_HISTORY = ["created_at", "updated_at"]


def history_user(instance=None, request=None, **kwargs):
    """The person behind a change: the admin's staff user; None through the API or a job."""
    user = getattr(request, "user", None)
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None


#: Per model, what else is kept elsewhere: a reward's stock moves with every redemption
#: (an UPDATE, which writes no history) and has its own record of changes (StockChange).
ALSO_NOT_HISTORY = {Reward: ["stock"]}

for model in (RewardRule, Promotion, Reward, MessageTemplate):
    register(
        model,
        app="loyalty",
        excluded_fields=[*NOT_HISTORY, *ALSO_NOT_HISTORY.get(model, [])],
        get_user=history_user,
        user_related_name="+",
    )
