"""Who is on duty (值班, RULES §14): the lookups other apps call to reach a person, not a role.

Two entry points:

* :func:`duty_resolve` — the people on duty for ``role`` in ``department`` at instant ``at``.
  Order of lookup:

  1. shifts of the roster for that role in the department itself that cover ``at``;
  2. otherwise shifts for that role in the department's unit (its branch or HQ) that cover ``at``
     (leaders and managers are usually rostered at unit level);
  3. otherwise — the roster has no shift covering that instant — the **fallback**: the active
     staff with that role in the department, or when it has none, in the unit's whole subtree.

  It never returns inactive users. Three to five small queries.

* :func:`duty_on_shift` — the cheap variant for per-notification use: one query, no fallback;
  the active users on a shift for ``role`` in any of ``department_ids`` at ``at``. An empty list
  means "nobody rostered"; the caller then keeps its own recipients (see
  ``kuaixiang.notify.services._role_recipients``).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from kuaixiang.org.models import Department, Shift


def _department(department: Department | int) -> Department:
    if isinstance(department, Department):
        return department
    return Department.objects.get(pk=department)


def duty_on_shift(*, role: str, department_ids, at: datetime) -> list:
    """Active users on a rostered shift for ``role`` in any of ``department_ids`` (ids, or a
    ``values("pk")`` queryset used as a subquery) covering ``at`` (``starts_at <= at < ends_at``);
    one query, ordered by username, no fallback."""
    ids = department_ids if isinstance(department_ids, QuerySet) else list(department_ids)
    if not isinstance(ids, QuerySet) and not ids:
        return []
    user_ids = Shift.objects.filter(
        role=role, department_id__in=ids, starts_at__lte=at, ends_at__gt=at, user__is_active=True
    ).values("user_id")
    return list(get_user_model().objects.filter(pk__in=user_ids).order_by("username"))


def duty_resolve(*, role: str, department: Department | int, at: datetime) -> list:
    """The people on duty for ``role`` in ``department`` (a Department or its id) at ``at``.

    Roster first (the department, then its unit); when no shift covers ``at``, the active staff
    with that role in the department, else in the unit's subtree (see the module docstring)."""
    return duty_resolve_with_source(role=role, department=department, at=at)[0]


def duty_resolve_with_source(*, role: str, department: Department | int, at: datetime) -> tuple[list, str]:
    """:func:`duty_resolve` plus where the answer came from: ``roster`` (the department's shifts),
    ``unit_roster`` (the unit's shifts) or ``fallback`` (staff with the role, no shift covering)."""
    dept = _department(department)
    found = duty_on_shift(role=role, department_ids=[dept.pk], at=at)
    if found:
        return found, "roster"
    unit = dept.unit()
    if unit.pk != dept.pk:
        found = duty_on_shift(role=role, department_ids=[unit.pk], at=at)
        if found:
            return found, "unit_roster"
    return staff_with_role(role=role, department=dept), "fallback"


def staff_with_role(*, role: str, department: Department) -> list:
    """Active users with ``role`` in ``department``; when it has none, in its unit's subtree."""
    users = get_user_model().objects.filter(is_active=True, staff__role=role).order_by("username")
    found = list(users.filter(staff__department=department))
    if found:
        return found
    unit = department.unit()
    return list(users.filter(staff__department__path__startswith=unit.path))
