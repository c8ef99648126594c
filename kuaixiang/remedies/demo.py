"""A few remedies and one 8D report for the demo data set (called by ``kuaixiang.demo.services.demo_seed``)."""

from decimal import Decimal

from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint
from kuaixiang.remedies import capa, services
from kuaixiang.remedies.models import CapaKind

# (type, amount, responsibility, justification, then: "execute" / "approve_first" / None)
DEMO_REMEDIES = (
    ("compensation", Decimal(50), "company_fault", "宽带中断两天，按公司责任补偿话费 50 元", "execute"),
    ("refund", Decimal(30), "unclear", "套餐变更未及时生效，责任不明，退还差额", None),
    ("compensation", Decimal(300), "company_fault", "营业厅办理错误致多扣费，客户要求补偿", None),
    ("compensation", Decimal(8000), "company_fault", "专线故障影响企业客户经营，按合同补偿", "approve_first"),
)


def remedies_demo_seed(*, logins: dict) -> dict:
    """Request the demo remedies as the ``agent`` login on complaints its centre took in: one executed,
    one approved at once, one waiting for the team lead, one in the 5,000+ chain past its first step;
    and open one 8D report on two complaints. Return counts for the seed summary."""
    agent, manager, head = logins["agent"], logins["manager"], logins["head"]
    staff = services.staff_of(agent)
    complaints = list(
        Complaint.objects.filter(intake_department=staff.department)
        .exclude(status__in=[State.REFUSED, State.MERGED])
        .order_by("received_at", "pk")[: len(DEMO_REMEDIES) + 2]
    )
    made = 0
    for complaint, (kind, amount, responsibility, why, then) in zip(complaints, DEMO_REMEDIES, strict=False):
        remedy = services.remedy_request(
            complaint_id=complaint.pk,
            actor=agent,
            data={"type": kind, "amount": amount, "responsibility": responsibility, "justification": why},
        )
        if then == "execute":
            services.remedy_execute(remedy_id=remedy.pk, actor=agent, note="已充值到账")
        elif then == "approve_first":
            services.remedy_decide(remedy_id=remedy.pk, actor=manager, action="approve", comment="情况属实，同意上报")
        made += 1
    eightds = 0
    quality = complaints[-2:]
    if len(quality) == 2:
        row = capa.eightd_open(
            actor=manager,
            complaint_ids=[c.pk for c in quality],
            title="同批次光猫频繁掉线",
            product="光猫 HG-2026 批次 11",
        )
        capa.eightd_update(
            actor=manager,
            eightd_id=row.pk,
            data={
                "d2_problem": "11 月起多名用户反映同批次光猫每天掉线数次",
                "d3_containment": "冻结该批次库存，已装机用户优先更换",
                "stock_checked": 1200,
                "stock_isolated": 35,
                "d4_root_cause": "固件内存泄漏，连续运行 20 小时后重启",
            },
        )
        capa.capa_action_add(
            actor=manager, eightd_id=row.pk, kind=CapaKind.TEMPORARY, description="隔离库存并上门更换", owner_id=head.pk
        )
        capa.capa_action_add(
            actor=manager, eightd_id=row.pk, kind=CapaKind.CORRECTIVE, description="推送修复固件", owner_id=head.pk
        )
        eightds = 1
    return {"remedies": made, "eightds": eightds}


def remedies_demo_reset() -> None:
    """Delete what this app wrote about the demo organisation (called by ``demo_reset`` before it
    deletes complaints, departments and staff, which these rows protect)."""
    from kuaixiang.remedies.models import Accountability, AuthorityLedger, Delegation, EightD, Remedy

    Accountability.objects.all().delete()
    EightD.objects.all().delete()
    Remedy.objects.all().delete()
    AuthorityLedger.objects.all().delete()
    Delegation.objects.all().delete()
