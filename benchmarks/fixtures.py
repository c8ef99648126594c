"""The benchmark organisation, built through the real models (idempotent: reruns find it).

HQ (complaint centre, PR, legal, leadership) and three branches, each with a customer
service centre and four handling departments. Personas measured in the list part:
``hq_manager`` (sees everything), ``branch_manager`` (branch 甲), ``handler`` (甲 network).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from kuaixiang.org.models import Department, Staff
from kuaixiang.triage.models import Category

BRANCHES = [("a", "甲"), ("b", "乙"), ("c", "丙")]
HANDLING = [
    ("network", "网络部", "network"),
    ("group", "集团客户部", "group_customers"),
    ("business", "业务支撑部", "business_support"),
    ("quality", "质量管理部", "quality"),
]
AGENTS_PER_CENTRE = 3
HANDLERS_PER_DEPARTMENT = 2

# Telecom category tree: top level -> second level -> leaves. The text generator keys its
# templates by the top-level code, so descriptions match their category.
CATEGORY_TREE = {
    ("net", "网络质量"): {
        ("mobile", "移动网络"): ["信号弱", "无信号", "通话掉线", "上网慢"],
        ("broadband", "家庭宽带"): ["宽带断网", "网速慢", "光猫故障", "装机延误"],
    },
    ("bill", "计费收费"): {
        ("fee", "费用争议"): ["乱扣费", "套餐资费不符", "流量计费异常"],
        ("vas", "增值业务"): ["未订购被扣费", "退订不成功"],
    },
    ("biz", "业务办理"): {
        ("handle", "业务受理"): ["携号转网受阻", "销户困难", "过户手续繁琐"],
        ("promo", "营销活动"): ["优惠未兑现", "捆绑销售"],
    },
    ("svc", "服务质量"): {
        ("attitude", "服务态度"): ["营业员态度差", "客服推诿"],
        ("timeliness", "服务时效"): ["维修超时", "回访不及时"],
    },
}


@dataclass
class BenchOrg:
    hq: Department
    branch: Department
    handler_department: Department
    hq_manager: object
    branch_manager: object
    handler: object
    api_user: object
    centres: dict  # branch code -> centre Department (plus "hq")
    handling: dict  # branch code -> list of handling Departments
    agents: dict  # centre id -> [user ids]
    handlers: dict  # department id -> [user ids]
    leaves: dict  # top-level category code -> [leaf ids]


def _dept(code: str, name: str, level: str, parent=None, function: str = "general") -> Department:
    dept = Department.objects.filter(code=code).first()
    if dept is None:
        dept = Department.objects.create(code=code, name=name, level=level, parent=parent, function=function)
    return dept


def _user(username: str, department: Department, role: str):
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        user = users.create_user(username, first_name=username)  # no password: token auth only
        Staff.objects.create(user=user, department=department, role=role)
    return user


def _categories() -> dict:
    leaves: dict[str, list[int]] = {}
    for (top_code, top_name), seconds in CATEGORY_TREE.items():
        top = Category.objects.filter(code=top_code).first() or Category.objects.create(name=top_name, code=top_code)
        for (mid_code, mid_name), names in seconds.items():
            code = f"{top_code}-{mid_code}"
            mid = Category.objects.filter(code=code).first() or Category.objects.create(
                name=mid_name, code=code, parent=top
            )
            for i, name in enumerate(names):
                leaf_code = f"{code}-{i}"
                leaf = Category.objects.filter(code=leaf_code).first() or Category.objects.create(
                    name=name, code=leaf_code, parent=mid
                )
                leaves.setdefault(top_code, []).append(leaf.pk)
    return leaves


@transaction.atomic
def build_org() -> BenchOrg:
    hq = _dept("hq", "总部", "hq")
    hq_centre = _dept("hq-centre", "总部投诉管理中心", "department", hq, "complaint_centre")
    for code, name, function in [
        ("pr", "公关部", "pr"),
        ("legal", "法务部", "legal"),
        ("leaders", "领导小组", "leadership"),
    ]:
        _dept(f"hq-{code}", name, "department", hq, function)
    centres = {"hq": hq_centre}
    handling: dict[str, list[Department]] = {}
    branches = {}
    for code, name in BRANCHES:
        branch = branches[code] = _dept(code, f"{name}分公司", "branch", hq)
        centres[code] = _dept(f"{code}-centre", f"{name}客服中心", "department", branch, "complaint_centre")
        handling[code] = [
            _dept(f"{code}-{suffix}", f"{name}{dname}", "department", branch, function)
            for suffix, dname, function in HANDLING
        ]
    agents = {}
    for code, centre in centres.items():
        agents[centre.pk] = [_user(f"agent_{code}_{i}", centre, "agent").pk for i in range(AGENTS_PER_CENTRE)]
    handlers = {}
    for code, departments in handling.items():
        for dept in departments:
            handlers[dept.pk] = [
                _user(f"handler_{dept.code}_{i}", dept, "handler").pk for i in range(HANDLERS_PER_DEPARTMENT)
            ]
        # The centre handles simple complaints itself: its agents act as assignees.
        handlers[centres[code].pk] = agents[centres[code].pk]
    return BenchOrg(
        hq=hq,
        branch=branches["a"],
        handler_department=handling["a"][0],
        hq_manager=_user("hq_manager", hq_centre, "manager"),
        branch_manager=_user("branch_manager", centres["a"], "manager"),
        handler=get_user_model().objects.get(username="handler_a-network_0"),
        api_user=_user("api_agent", centres["a"], "agent"),
        centres=centres,
        handling=handling,
        agents=agents,
        handlers=handlers,
        leaves=_categories(),
    )


def api_token(user) -> str:
    """A fresh bearer token for ``user``, stored hashed like any other."""
    from kuaixiang import clock
    from kuaixiang.api.models import ApiToken, hash_token

    key = ApiToken.new_key()
    ApiToken.objects.create(user=user, key_hash=hash_token(key), name="bench", created_at=clock.now())
    return key
