"""Data scope: which departments' complaints a user may see.

A department-scoped role (agent, lead, handler, head) sees its own department and the
teams below it; a unit-scoped role (manager, PR, legal, leader, admin) sees its whole
branch; anyone placed at HQ with a unit-scoped role sees everything — except the sandbox
organisation (演练沙箱, root department code ``sandbox``, see ``kuaixiang.alerts.sandbox``), whose
replayed and drill complaints only its own staff see.
"""

from dataclasses import dataclass

from django.db.models import Q

from kuaixiang.org.models import Department, Staff
from kuaixiang.org.roles import UNIT_SCOPED_ROLES, Role

SANDBOX_CODE = "sandbox"  # root department of the sandbox organisation (replays and drills)


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: str | None
    everything: bool
    department_ids: frozenset[int]
    own_department_ids: frozenset[int]
    hidden_path: str = ""  # a department subtree (the sandbox) whose complaints "everything" leaves out

    def complaint_filter(self, prefix: str = "") -> Q:
        """A ``Q`` selecting the complaints in scope: handled by, taken in, or registered by.
        "Everything" means every complaint not taken in by the sandbox organisation."""
        if self.everything:
            if not self.hidden_path:
                return Q()
            # A filter on the complaint's own column (no join): the plans of lists and queues keep
            # their shape; the sandbox's few department ids are one hashed subquery.
            hidden = Department.objects.filter(path__startswith=self.hidden_path).values("id")
            return ~Q(**{f"{prefix}intake_department_id__in": hidden})
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


def _subtree_and_sandbox(department: Department) -> tuple[frozenset[int], str]:
    """The department's subtree ids and the sandbox root's path ("" when there is no sandbox), in
    one query (the sandbox is looked up afresh for every scope, so a rebuilt sandbox is never missed)."""
    rows = Department.objects.filter(Q(path__startswith=department.path) | Q(code=SANDBOX_CODE)).values_list(
        "id", "path", "code"
    )
    ids, sandbox = set(), ""
    for pk, path, code in rows:
        if path.startswith(department.path):
            ids.add(pk)
        if code == SANDBOX_CODE:
            sandbox = path
    return frozenset(ids), sandbox


def _hidden_path(sandbox_path: str, department: Department | None) -> str:
    """The sandbox path to leave out of an "everything" scope; "" for the sandbox's own staff."""
    if not sandbox_path or (department is not None and department.path.startswith(sandbox_path)):
        return ""
    return sandbox_path


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
        hidden = ""
        if user.is_superuser:
            hidden = Department.objects.filter(code=SANDBOX_CODE).values_list("path", flat=True).first() or ""
        role = Role.ADMIN if user.is_superuser else None
        scope = Scope(user.pk, role, user.is_superuser, frozenset(), frozenset(), hidden)
    else:
        own, sandbox_path = _subtree_and_sandbox(staff.department)
        if staff.role in UNIT_SCOPED_ROLES:
            unit = staff.department.unit()
            everything = unit.level == Department.Level.HQ
            ids = own if everything else _subtree_ids(unit)
        else:
            everything, ids = False, own
        hidden = _hidden_path(sandbox_path, staff.department) if everything else ""
        scope = Scope(user.pk, staff.role, everything, ids, own, hidden)
    user._kx_scope = scope
    return scope
