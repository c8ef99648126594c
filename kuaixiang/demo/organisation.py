"""The demo organisation: HQ and two branches, their departments, the role logins and more staff."""

import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from kuaixiang.demo import texts
from kuaixiang.org.models import Department, Staff
from kuaixiang.org.roles import Role

Level = Department.Level
Function = Department.Function

# The logins printed at the end of the seed, one per role, and where they sit.
LOGINS: tuple[tuple[str, str, str], ...] = (
    # username, department code, Chinese name
    ("agent", "bj-centre", "王芳"),
    ("lead", "bj-centre", "李娜"),
    ("manager", "bj-centre", "陈静"),
    ("handler", "bj-network", "张伟"),
    ("head", "bj-network", "刘强"),
    ("pr", "hq-pr", "杨洋"),
    ("legal", "hq-legal", "赵敏"),
    ("leader", "hq-leaders", "黄建国"),
    ("admin", "hq", "周磊"),
)
DEMO_USERNAMES = tuple(username for username, _, _ in LOGINS)

# (code suffix, name, function, {role: how many people}); a role login fills one of its slots.
BRANCH_DEPARTMENTS = (
    ("centre", "客服中心", Function.COMPLAINT_CENTRE, {Role.AGENT: 3, Role.LEAD: 2, Role.MANAGER: 1}),
    ("network", "网络部", Function.NETWORK, {Role.HEAD: 1, Role.HANDLER: 3}),
    ("group", "集团客户部", Function.GROUP_CUSTOMERS, {Role.HEAD: 1, Role.HANDLER: 2}),
    ("business", "业务支撑部", Function.BUSINESS_SUPPORT, {Role.HEAD: 1, Role.HANDLER: 2}),
    ("quality", "质量管理部", Function.QUALITY, {Role.HEAD: 1, Role.HANDLER: 2}),
)
HQ_DEPARTMENTS = (
    ("centre", "总部投诉管理中心", Function.COMPLAINT_CENTRE, {Role.AGENT: 2, Role.LEAD: 1, Role.MANAGER: 1}),
    ("quality", "总部质量管理部", Function.QUALITY, {Role.HEAD: 1, Role.HANDLER: 1}),
    ("legal", "法务部", Function.LEGAL, {Role.LEGAL: 2}),
    ("pr", "公关部", Function.PR, {Role.PR: 2}),
    ("leaders", "领导小组", Function.LEADERSHIP, {Role.LEADER: 2}),
)
BRANCHES = (("bj", "北京分公司", "北京"), ("sh", "上海分公司", "上海"))


@dataclass
class Handling:
    """A department that works dispatched complaints, with its head and handlers."""

    department: Department
    head: object
    handlers: list = field(default_factory=list)


@dataclass
class Unit:
    """A complaint-taking unit (a branch or HQ): its complaint centre and its staff."""

    key: str
    name: str
    department: Department
    centre: Department
    agents: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    manager: object = None
    handling: dict[str, Handling] = field(default_factory=dict)


@dataclass
class DemoOrg:
    hq: Department
    units: dict[str, Unit]
    logins: dict[str, object]
    departments: list[Department]
    staff_count: int


def _person_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(texts.SURNAMES) + rng.choice(texts.GIVEN)
        if name not in used:
            used.add(name)
            return name


def _mobile(rng: random.Random) -> str:
    return rng.choice(("133", "153", "180", "189", "199", "177")) + f"{rng.randrange(10**8):08d}"


def organisation_build(*, password_hash: str, rng: random.Random) -> DemoOrg:
    """Create the demo departments and staff; every account gets ``password_hash`` (hashed once)."""
    User = get_user_model()
    departments: dict[str, Department] = {}

    def dept(code: str, name: str, level: str, parent: Department | None, function: str) -> Department:
        node = Department(code=code, name=name, level=level, parent=parent, function=function)
        node.save()
        departments[code] = node
        return node

    hq = dept("hq", "总部", Level.HQ, None, Function.GENERAL)
    plan: list[tuple[Department, dict]] = []
    for suffix, name, function, wanted in HQ_DEPARTMENTS:
        plan.append((dept(f"hq-{suffix}", name, Level.DEPARTMENT, hq, function), wanted))
    for key, name, short in BRANCHES:
        branch = dept(key, name, Level.BRANCH, hq, Function.GENERAL)
        for suffix, dept_name, function, wanted in BRANCH_DEPARTMENTS:
            node = dept(f"{key}-{suffix}", f"{short}{dept_name}", Level.DEPARTMENT, branch, function)
            plan.append((node, wanted))

    used_names = {name for _, _, name in LOGINS}
    staff: list[tuple[object, Department, str]] = []

    def person(username: str, name: str, department: Department, role: str, *, superuser: bool = False):
        # The whole Chinese name goes in first_name, so get_full_name() reads "王芳", not "芳 王".
        user = User(username=username, first_name=name, is_staff=superuser, is_superuser=superuser)
        user.password = password_hash
        user.save()
        Staff.objects.create(user=user, department=department, role=role, phone=_mobile(rng))
        staff.append((user, department, role))
        return user

    logins = {
        username: person(username, name, departments[code], username, superuser=username == "admin")
        for username, code, name in LOGINS
    }
    for department, wanted in plan:
        for role, how_many in wanted.items():
            placed = sum(1 for u, d, r in staff if d.pk == department.pk and r == role)
            for n in range(placed + 1, how_many + 1):
                username = f"{department.code.replace('-', '_')}_{role}{n}"
                person(username, _person_name(rng, used_names), department, role)

    units: dict[str, Unit] = {}
    for key, name in [("hq", "总部"), *[(k, n) for k, n, _ in BRANCHES]]:
        units[key] = Unit(key=key, name=name, department=departments[key], centre=departments[f"{key}-centre"])
    for user, department, role in staff:
        unit = units[department.code.split("-")[0]]
        if department.function == Function.COMPLAINT_CENTRE:
            if role == Role.AGENT:
                unit.agents.append(user)
            elif role == Role.LEAD:
                unit.leads.append(user)
            elif role == Role.MANAGER and (unit.manager is None or user.username == "manager"):
                unit.manager = user
        elif role in (Role.HEAD, Role.HANDLER) and department.level == Level.DEPARTMENT:
            handling = unit.handling.setdefault(department.function, Handling(department, None))
            if role == Role.HEAD:
                handling.head = handling.head or user
            else:
                handling.handlers.append(user)
    from kuaixiang import clock
    from kuaixiang.org.services import roster_demo

    roster_demo(departments=list(departments.values()), actor=logins["admin"], first=clock.local_now().date())
    return DemoOrg(hq=hq, units=units, logins=logins, departments=list(departments.values()), staff_count=len(staff))
