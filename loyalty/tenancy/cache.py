"""The account's configuration, kept in process memory between requests.

Every request of the till reads the same few things of its account — the credential and the
store behind its tokens, the rules in force, the message templates, the webhook endpoints —
and a merchant changes them a few times a month. Each process keeps what it read, tagged
with the account's *version*: one random value per account in the shared cache (Redis in
production, so every process of every machine sees the same one). A request reads the
version once (one GET) and uses what it holds only under that same version.

Invalidation is explicit: every write of a watched model (`watch`, wired to the model's
save and delete, so the admin, the API, the shell and the demo data are covered alike) and
every service that changes such rows with `QuerySet.update()` (`account_config_changed`)
gives the account a new version — at once, and again once the transaction commits. The
first stops the writing process from using what it held; the second stops any process that
read the rows between the two from keeping what it read. So a deactivated credential or
store is refused by the next request after the commit, in every process.

Staleness is bounded even if a version is lost (the shared cache evicted or unreachable):
nothing is used more than `ACCOUNT_CACHE_SECONDS` after it was read, and when the shared
cache cannot be read nothing is used at all. Where processes share no cache (several
gunicorn workers without Redis), `ACCOUNT_CACHE_ENABLED` is off and every request reads.

What is kept is shared by the threads of the process: callers treat it as read-only.
"""

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

logger = logging.getLogger(__name__)

T = TypeVar("T")

VERSION_KEY = "account-config:{account_id}"
# A version lives long in the shared cache; its loss only makes every process read again.
VERSION_TIMEOUT = 24 * 60 * 60
MAX_ENTRIES = 10_000

_entries: "OrderedDict[tuple[int, str], tuple[str, float, Any]]" = OrderedDict()
_lock = threading.Lock()
# The versions a request has read, so that it reads each account's only once.
_request_versions: ContextVar[dict[int, str | None] | None] = ContextVar("account_versions", default=None)


def _max_age() -> float:
    return float(settings.ACCOUNT_CACHE_SECONDS)


def _new_version(account_id: int) -> str | None:
    version = uuid.uuid4().hex
    try:
        cache.set(VERSION_KEY.format(account_id=account_id), version, VERSION_TIMEOUT)
    except Exception:  # the shared cache is down: nothing cached will be used
        logger.warning("Could not renew the configuration version of account %s.", account_id, exc_info=True)
        return None
    return version


def _shared_version(account_id: int) -> str | None:
    key = VERSION_KEY.format(account_id=account_id)
    try:
        version = cache.get(key)
        if version is None:
            # First read since the version was lost: every process reads afresh under a new one.
            cache.add(key, uuid.uuid4().hex, VERSION_TIMEOUT)
            version = cache.get(key)
    except Exception:
        logger.warning("Could not read the configuration version of account %s.", account_id, exc_info=True)
        return None
    return version


def _version(account_id: int) -> str | None:
    seen = _request_versions.get()
    if seen is None:
        return _shared_version(account_id)
    if account_id not in seen:
        seen[account_id] = _shared_version(account_id)
    return seen[account_id]


def account_cached(account_id: int, name: str, load: Callable[[], T]) -> T:
    """What `load()` answers for the account, from process memory when it was read under the
    account's current version less than `ACCOUNT_CACHE_SECONDS` ago."""
    if not settings.ACCOUNT_CACHE_ENABLED:
        return load()
    version = _version(account_id)
    if version is None:
        return load()
    key = (account_id, name)
    now = time.monotonic()
    with _lock:
        held = _entries.get(key)
    if held is not None and held[0] == version and now - held[1] < _max_age():
        return held[2]
    value = load()
    with _lock:
        _entries[key] = (version, now, value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def account_config_changed(account_id: int) -> None:
    """The account's configuration changed: nothing read before is used from now on, in any
    process, and nothing read before the commit is used after it."""
    version = _new_version(account_id)
    seen = _request_versions.get()
    if seen is not None:
        seen[account_id] = version
    transaction.on_commit(lambda: _committed(account_id))


def _committed(account_id: int) -> None:
    version = _new_version(account_id)
    seen = _request_versions.get()
    if seen is not None:
        seen[account_id] = version


@contextmanager
def request_scope() -> Iterator[None]:
    """Read each account's version at most once within the block (one request)."""
    token = _request_versions.set({})
    try:
        yield
    finally:
        _request_versions.reset(token)


def forget_all() -> None:
    """Drop what this process holds (tests; a process that must start cold)."""
    with _lock:
        _entries.clear()


def watch(model: type[models.Model], account_of: Callable[[Any], int | None] | None = None) -> None:
    """Any save or delete of `model` changes its account's configuration (`account_of`
    names the account of a row; by default its `account_id`, and then a row moved to another
    account changes both accounts')."""
    of = account_of or (lambda instance: instance.account_id)

    def changed(sender: object, instance: Any, **kwargs: object) -> None:
        if kwargs.get("raw"):
            return  # fixtures loading: no request has read these rows
        account_id = of(instance)
        if account_id is not None:
            account_config_changed(account_id)

    def moving(sender: object, instance: Any, **kwargs: object) -> None:
        # A row moved to another account (a superuser may, in the admin) leaves the first one's
        # configuration too.
        if kwargs.get("raw") or instance._state.adding or instance.pk is None:
            return
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "account" not in update_fields and "account_id" not in update_fields:
            return  # a save of named columns, not the account: nothing to read
        stored = type(instance)._base_manager.filter(pk=instance.pk).first()
        if stored is not None and of(stored) != of(instance) and of(stored) is not None:
            account_config_changed(of(stored))

    uid = f"account-config:{model._meta.label}"
    if account_of is None:
        pre_save.connect(moving, sender=model, weak=False, dispatch_uid=f"{uid}:move")
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}:save")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}:delete")


def watch_links(through: type[models.Model], account_of: Callable[[Any], int | None]) -> None:
    """A many-to-many's links set through its related manager (`rule.stores.set(...)`)."""

    def changed(sender: object, instance: Any, action: str, **kwargs: object) -> None:
        if action.startswith("post_"):
            account_id = account_of(instance)
            if account_id is not None:
                account_config_changed(account_id)

    m2m_changed.connect(
        changed, sender=through, weak=False, dispatch_uid=f"account-config:{through._meta.label}:links"
    )
    watch(through)
