"""Named personas in a small two-branch organisation, built once per test that asks for them."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.services import complaint_register
from kuaixiang.org.models import Department, Staff
from kuaixiang.triage.models import Category

PASSWORD = "test-pass-123"


@dataclass
class Org:
    hq: Department
    hq_centre: Department
    hq_pr: Department
    hq_legal: Department
    hq_leaders: Department
    branch: Department
    centre: Department
    network: Department
    business: Department
    other_branch: Department
    other_centre: Department
    other_network: Department
    agent: object
    lead: object
    handler: object
    head: object
    manager: object
    biz_handler: object
    hq_manager: object
    pr: object
    legal: object
    leader: object
    admin: object
    outsider: object
    outside_agent: object
    category: Category
    leaf: Category

    def persona(self, name: str):
        return getattr(self, name)


def _dept(name, code, level, parent=None, function="general"):
    return Department.objects.create(name=name, code=code, level=level, parent=parent, function=function)


def _user(username, department, role, email=""):
    user = get_user_model().objects.create_user(username, email=email, password=PASSWORD, first_name=username)
    Staff.objects.create(user=user, department=department, role=role)
    return user


def build_org() -> Org:
    hq = _dept("总部", "hq", "hq")
    hq_centre = _dept("总部投诉管理中心", "hq-centre", "department", hq, "complaint_centre")
    hq_pr = _dept("公关部", "hq-pr", "department", hq, "pr")
    hq_legal = _dept("法务部", "hq-legal", "department", hq, "legal")
    hq_leaders = _dept("领导小组", "hq-leaders", "department", hq, "leadership")
    branch = _dept("甲分公司", "a", "branch", hq)
    centre = _dept("甲客服中心", "a-centre", "department", branch, "complaint_centre")
    network = _dept("甲网络部", "a-network", "department", branch, "network")
    business = _dept("甲业务支撑部", "a-business", "department", branch, "business_support")
    other_branch = _dept("乙分公司", "b", "branch", hq)
    other_centre = _dept("乙客服中心", "b-centre", "department", other_branch, "complaint_centre")
    other_network = _dept("乙网络部", "b-network", "department", other_branch, "network")
    root = Category.objects.create(name="网络质量", code="net")
    mid = Category.objects.create(name="移动网络", code="net-mobile", parent=root)
    leaf = Category.objects.create(name="信号弱", code="net-mobile-weak", parent=mid)
    return Org(
        hq=hq,
        hq_centre=hq_centre,
        hq_pr=hq_pr,
        hq_legal=hq_legal,
        hq_leaders=hq_leaders,
        branch=branch,
        centre=centre,
        network=network,
        business=business,
        other_branch=other_branch,
        other_centre=other_centre,
        other_network=other_network,
        agent=_user("agent", centre, "agent"),
        lead=_user("lead", centre, "lead"),
        handler=_user("handler", network, "handler", "handler@example.cn"),
        head=_user("head", network, "head", "head@example.cn"),
        manager=_user("manager", centre, "manager"),
        biz_handler=_user("biz_handler", business, "handler"),
        hq_manager=_user("hq_manager", hq_centre, "manager"),
        pr=_user("pr", hq_pr, "pr"),
        legal=_user("legal", hq_legal, "legal"),
        leader=_user("leader", hq_leaders, "leader"),
        admin=_user("admin", hq, "admin"),
        outsider=_user("outsider", other_network, "handler"),
        outside_agent=_user("outside_agent", other_centre, "agent"),
        category=root,
        leaf=leaf,
    )


def register(actor, **fields):
    """Register a valid complaint through the real service; fields override the defaults."""
    data = {"channel": "phone", "complainant_phone": "13812345678", "description": "手机没有信号", **fields}
    return complaint_register(actor=actor, data=parse_complaint_input(data)).complaint
