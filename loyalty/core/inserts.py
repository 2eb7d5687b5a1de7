"""Inserting a row whose natural keys another request may have taken a moment ago.

A sale or a redemption is identified by unique keys; two tills may send the same one at the
same instant. `insert_unless_taken` writes the row with `INSERT ... ON CONFLICT DO NOTHING
RETURNING` (PostgreSQL and SQLite alike): one statement, where a savepoint around a plain
insert costs three, and a taken key is an answer rather than an error that would abort the
transaction. The SQL is the ORM's own (the model's insert, as `save()` builds it), with the
conflict clause Django uses for `bulk_create(ignore_conflicts=True)`.
"""

from django.db import models, router
from django.db.models.constants import OnConflict


def insert_unless_taken(instance: models.Model) -> bool:
    """Insert the new `instance` (its primary key set from the database) and answer True; or,
    when a unique constraint already holds its keys, insert nothing and answer False.

    Check constraints still raise `IntegrityError`, as with `save()`. No `pre_save` /
    `post_save` signal is sent.
    """
    model = type(instance)
    meta = model._meta
    assert instance._state.adding, "only a new row is inserted"
    assert instance.pk is None, "the database numbers the row"
    using = router.db_for_write(model, instance=instance)
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    returning = meta.db_returning_fields
    rows = model._base_manager._insert(  # type: ignore[attr-defined]
        [instance], fields=fields, returning_fields=returning, using=using, on_conflict=OnConflict.IGNORE
    )
    row = rows[0] if rows else None
    if not row:
        return False
    for value, field in zip(row, returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    return True
