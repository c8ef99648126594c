"""Data scope: which departments' complaints a user may see.

A department-scoped role (agent, lead, handler, head) sees its own department and the
teams below it; a unit-scoped role (manager, PR, legal, leader, admin) sees its whole
branch; anyone placed at HQ with a unit-scoped role sees everything.
"""

from dataclasses import dataclass

from django.db.models import Q

from kuaixiang.org.models import Department, Staff
from kuaixiang.org.roles import UNIT_SCOPED_ROLES, Role


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: str | None
    everything: bool
    department_ids: frozenset[int]
    own_department_ids: frozenset[int]

    def complaint_filter(self, prefix: str = "") -> Q:
        """A ``Q`` selecting the complaints in scope: handled by, taken in, or registered by."""
        if self.everything:
            return Q()
        ids = self.department_ids
        return (
            Q(**{f"{prefix}department_id__in": ids})
            | Q(**{f"{prefix}intake_department_id__in": ids})
            | Q(**{f"{prefix}registered_by_id": self.user_id})
        )

    def covers_department(self, department_id: int | None) -> bool:
        return self.everything or department_id in self.department_ids


def _subtree_ids(department: Department) -> frozenset[int]:
    return frozenset(Department.objects.filter(path__startswith=department.path).values_list("id", flat=True))


def staff_record(user) -> Staff | None:
    """The user's Staff row with its department: from ``select_related("staff__department")``
    when the caller loaded the user that way (the API's token lookup does), else one query."""
    cache = user._state.fields_cache
    if "staff" in cache:
        return cache["staff"]
    staff = Staff.objects.select_related("department").filter(user_id=user.pk).first()
    cache["staff"] = staff
    return staff


def scope_for(user) -> Scope:
    """Return the user's scope; a user without a staff record sees nothing (superusers all)."""
    cached = getattr(user, "_kx_scope", None)
    if cached is not None:
        return cached
    staff = staff_record(user)
    if staff is None:
        scope = Scope(user.pk, Role.ADMIN if user.is_superuser else None, user.is_superuser, frozenset(), frozenset())
    else:
        own = _subtree_ids(staff.department)
        if staff.role in UNIT_SCOPED_ROLES:
            unit = staff.department.unit()
            everything = unit.level == Department.Level.HQ
            ids = own if everything else _subtree_ids(unit)
        else:
            everything, ids = False, own
        scope = Scope(user.pk, staff.role, everything, ids, own)
    user._kx_scope = scope
    return scope
