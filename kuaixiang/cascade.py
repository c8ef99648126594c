"""Delete a queryset's rows and what cascades from them with one statement per table.

``cascade_delete(queryset)`` follows the models' ``on_delete`` rules as ``QuerySet.delete()`` does,
but set-based: each dependent table gets one ``DELETE`` (or, for ``SET_NULL``, one ``UPDATE``)
whose condition is a subquery on its parent, so no primary key is read into Python. Django's
collector reads every id and sends them back in batches of a few hundred, which for thousands of
rows costs more than the deletes themselves. It sends no ``pre_delete``/``post_delete`` signals,
so it is only for models no receiver listens to (the sandbox's complaints and their children).
"""

from __future__ import annotations

from django.db import models
from django.db.models.deletion import ProtectedError, RestrictedError


def cascade_delete(queryset: models.QuerySet, *, _path: tuple = ()) -> int:
    """Delete ``queryset``'s rows and their dependants; return how many rows of its own model went.

    Raise ``ProtectedError``/``RestrictedError`` (nothing deleted, inside the caller's transaction)
    when a row outside the set refers to one inside it through ``PROTECT`` or ``RESTRICT``. Unlike
    ``QuerySet.delete()``, a row of the set itself referring to another (a complaint merged into
    one deleted with it) does not block: nothing would be left pointing at a deleted row."""
    model = queryset.model
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        on_delete = relation.on_delete
        field = relation.field.name
        related = relation.related_model._base_manager.filter(**{f"{field}__in": queryset})
        if relation.related_model is model:
            related = related.exclude(pk__in=queryset)  # rows of the set itself go with it
        if on_delete is models.CASCADE:
            if relation.related_model in (model, *_path):  # the recursion would not end
                raise NotImplementedError(f"cascade_delete: CASCADE cycle through {relation.related_model.__name__}")
            cascade_delete(related, _path=(*_path, model))
        elif on_delete is models.SET_NULL:
            related.update(**{field: None})
        elif on_delete in (models.PROTECT, models.RESTRICT):
            blocking = list(related[:5])
            if blocking:
                error = ProtectedError if on_delete is models.PROTECT else RestrictedError
                raise error(f"{relation.related_model.__name__} 仍引用待删除的 {model.__name__}", set(blocking))
        elif on_delete is not models.DO_NOTHING:
            raise NotImplementedError(f"cascade_delete: {relation.related_model.__name__}.{field} {on_delete.__name__}")
    # One DELETE … WHERE <the queryset's condition>, the statement the collector ends with.
    return queryset._raw_delete(queryset.db)
