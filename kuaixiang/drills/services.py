"""Drill writers (演练): start a drill from a playbook with a surge, mark steps done on the drill
clock, skip ahead, stabilise/close the drill incident, finish and score.

Everything happens in the sandbox organisation (``kuaixiang.alerts.sandbox``): the surge is
replayed into it through the normal intake path (``kuaixiang.alerts.replay.replay_rows``), the
incident is a sandbox incident (``kuaixiang.crisis.services``, ``sandbox=True``) whose messages stay
in the sandbox staff's in-app inboxes (no e-mail, no webhooks). Real customers and staff outside
the sandbox are never notified.

The drill clock (``scoring.drill_clock``) starts at the incident's activation and runs ``speed``
times real time; deadlines, completions and scores are all on that clock. Crisis writers that read
``clock.now()`` are called inside ``clock.frozen(drill time)``.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, transaction

from kuaixiang import clock
from kuaixiang.drills.models import Drill, DrillStep
from kuaixiang.drills.scoring import drill_clock, drill_score, step_score
from kuaixiang.drills.surge import SurgeSpec, surge_rows
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.org.models import Department
from kuaixiang.org.roles import Role
from kuaixiang.org.scope import staff_record

DRILL_MANAGERS = frozenset({Role.MANAGER, Role.LEADER, Role.ADMIN})
MAX_SPEED = 3600.0
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 20000
MAX_SKIP_MINUTES = 7 * 24 * 60
# Background texts for synthetic surges: the shared development corpus when present, else demo texts.
DEV_TEXTS = Path(os.environ.get("KX_SURGE_TEXTS", "/work/shared/data/complaints_dev.csv"))
DEFAULT_BURST_CATEGORY = "网络质量/移动网络/移动上网/上网连接/无法上网"
BACKGROUND_CATEGORIES = (
    "网络质量/移动网络/信号覆盖/4G覆盖/4G信号弱",
    "网络质量/移动网络/通话质量/语音通话/通话掉话",
    "计费与资费/费用争议/通信费用/流量费/不明流量扣费",
    "计费与资费/费用争议/增值费用/代收费/未订购被扣费",
    "业务办理/套餐业务/套餐变更/变更生效/套餐变更未生效",
    "服务质量/热线服务/客服热线/接通/人工难接通",
    "服务质量/营业厅服务/厅店环境/排队等候/排队时间长",
)
SYNTHETIC_LIMITS = {  # name: (minimum, maximum, default)
    "burst": (1, 2000, 120),
    "burst_minutes": (5, 720, 60),
    "background_per_hour": (0, 500, 20),
    "hours": (1, 48, 3),
    "seed": (0, 2**31 - 1, 0),
}


# ---------------------------------------------------------------- permissions


def _role(user) -> str | None:
    if user.is_superuser:
        return Role.ADMIN
    staff = staff_record(user)
    return staff.role if staff else None


def drill_can_manage(user) -> bool:
    """Start, skip ahead, stabilise/close and finish drills: managers, leaders, admins."""
    return _role(user) in DRILL_MANAGERS


def _require_manager(actor) -> None:
    if not drill_can_manage(actor):
        raise Forbidden("drill_forbidden", "只有投诉管理员、领导或系统管理员可以组织演练")


def drill_can_do_task(user, task) -> bool:
    """A drill manager, or staff whose role is one of the staff roles of the step's playbook role."""
    if drill_can_manage(user):
        return True
    role = _role(user)
    if role is None:
        return False
    playbook_role = task.incident.playbook.roles.filter(key=task.owner_role).first()
    return bool(playbook_role and role in (playbook_role.staff_roles or []))


# ---------------------------------------------------------------- scenarios


def _int_param(params: dict, name: str) -> int:
    low, high, default = SYNTHETIC_LIMITS[name]
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("invalid_scenario", f"场景参数 {name} 应为 {low}–{high} 的整数", {"field": name})
    return value


def _text_param(params: dict, name: str, default: str, limit: int = 200) -> str:
    value = params.get(name, default)
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise InvalidInput("invalid_scenario", f"场景参数 {name} 应为不超过 {limit} 字的文本", {"field": name})
    return value.strip()


def _demo_texts() -> tuple[list[str], list[str]]:
    from kuaixiang.demo import texts

    fill = {"place": texts.SURGE_PLACE, "days": "三", "amount": "58", "plan": texts.PLANS[0], "hall": "营业厅"}
    fill |= {"when": "这几天", "times": "三", "speed": "几十K"}
    burst = [t.format(**fill) for t in texts.SURGE_SYMPTOMS]
    background = [t.format(**fill) for values in texts.SYMPTOMS.values() for t in values]
    return burst, background


def _dev_texts(limit: int = 3000) -> list[str]:
    """Up to ``limit`` texts of the development corpus (columns category,text), or [] when absent."""
    if not DEV_TEXTS.is_file():
        return []
    out = []
    with DEV_TEXTS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("text") or "").strip()
            if 4 <= len(text) <= 500:
                out.append(text)
            if len(out) >= limit:
                break
    return out


def scenario_rows(scenario: dict, *, end: datetime) -> tuple[str, dict, list[dict]]:
    """Validate ``scenario`` and return ``(kind, stored parameters, replay rows)``.

    ``{"kind": "synthetic", "category", "burst", "burst_minutes", "background_per_hour", "hours",
    "seed"}`` builds a background stream plus a burst ending at ``end``; ``{"kind": "recorded",
    "csv": "<text>"}`` replays a recorded stream (header ``received_at,channel,category,text[,phone]``).
    Raises InvalidInput (400 ``invalid_scenario``) before anything is written."""
    if not isinstance(scenario, dict):
        raise InvalidInput("invalid_scenario", "场景应为对象", {"field": "scenario"})
    kind = scenario.get("kind", Drill.Scenario.SYNTHETIC)
    if kind == Drill.Scenario.RECORDED:
        text = scenario.get("csv")
        if not isinstance(text, str) or not text.strip() or len(text.encode()) > MAX_CSV_BYTES or "\x00" in text:
            raise InvalidInput("invalid_scenario", "历史回放需要 CSV 文本（不超过 5 MB）", {"field": "csv"})
        reader = csv.DictReader(io.StringIO(text))
        missing = {"received_at", "channel", "category", "text"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput("invalid_scenario", f"CSV 缺少列：{'、'.join(sorted(missing))}", {"field": "csv"})
        rows = []
        for line, row in enumerate(reader, start=2):
            rows.append({**{k: v for k, v in row.items() if k}, "line": line})
            if len(rows) > MAX_CSV_ROWS:
                raise InvalidInput("invalid_scenario", f"CSV 最多 {MAX_CSV_ROWS} 行", {"field": "csv"})
        if not rows:
            raise InvalidInput("invalid_scenario", "CSV 没有数据行", {"field": "csv"})
        return kind, {"kind": kind, "rows": len(rows)}, rows
    if kind != Drill.Scenario.SYNTHETIC:
        raise InvalidInput("invalid_scenario", "场景类型应为 synthetic 或 recorded", {"field": "kind"})
    params = {name: _int_param(scenario, name) for name in SYNTHETIC_LIMITS}
    category = _text_param(scenario, "category", DEFAULT_BURST_CATEGORY)
    spec = SurgeSpec(
        burst_category=category,
        background_categories=tuple(c for c in BACKGROUND_CATEGORIES if c != category),
        hours=params["hours"],
        background_per_hour=params["background_per_hour"],
        burst=params["burst"],
        burst_minutes=params["burst_minutes"],
    )
    burst_texts, demo_background = _demo_texts()
    dev = _dev_texts()
    rows = surge_rows(
        spec, end=end, burst_texts=burst_texts, background_texts=dev or demo_background, seed=params["seed"]
    )
    stored = {"kind": kind, "category": category, **params, "texts": "dev" if dev else "demo"}
    return kind, stored, rows


# ---------------------------------------------------------------- start


def _incident_for(playbook, result, fallback_end: datetime):
    """The drill incident: opened by the first replayed warning that meets the playbook's criteria
    (as the live system would), else declared for the playbook at the end of the surge."""
    from kuaixiang.alerts.models import Warning, WarningComplaint
    from kuaixiang.alerts.sandbox import sandbox_root
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.crisis.criteria import criteria_met
    from kuaixiang.crisis.models import Incident
    from kuaixiang.crisis.services import WarningFacts, criteria_of, incident_open, incidents_from_warning

    criteria = criteria_of(playbook)
    for row in result.warnings:
        if not criteria_met(criteria, level=row.level, rule_code=row.rule):
            continue
        warning = Warning.objects.filter(pk=row.warning_id, sandbox=True).first()
        if warning is None:
            continue
        facts = WarningFacts(
            warning_id=warning.pk,
            level=row.level,
            rule_code=row.rule,
            category_id=warning.category_id,
            scope_label=warning.scope_label,
            sandbox=True,
            flags=(),
            complaint_ids=tuple(
                WarningComplaint.objects.filter(warning=warning).values_list("complaint_id", flat=True)
            ),
            unit_id=None,
            raised_at=row.raised_at,
        )
        with clock.frozen(row.raised_at):
            incidents_from_warning(facts=facts, now=row.raised_at)
        incident = (
            Incident.objects.filter(sandbox=True, warning_id=warning.pk, playbook__code=playbook.code)
            .order_by("-pk")
            .first()
        )
        if incident is not None and incident.status != Incident.Status.CLOSED:
            return incident, Drill.Activation.WARNING
    root = sandbox_root()
    complaints = list(Complaint.objects.filter(intake_department__path__startswith=root.path).order_by("-pk")[:500])
    with clock.frozen(fallback_end):
        incident = incident_open(
            playbook=playbook,
            title=f"演练：{playbook.name}",
            description="演练场景未触发该预案的启动条件，由演练组织者直接启动。",
            actor=None,
            sandbox=True,
            unit=root,
            complaints=complaints,
            now=fallback_end,
        )
    return incident, Drill.Activation.MANUAL


def drill_start(*, playbook: str, scenario: dict, actor, speed: float = 60.0, title: str = "") -> Drill:
    """Start a drill of ``playbook`` (a code) with ``scenario`` (see :func:`scenario_rows`) at
    ``speed`` times real time. Closes the sandbox incidents left open, empties the sandbox, replays
    the surge into it, opens the sandbox incident and returns the running drill. 403 for
    non-managers, 400 for a bad playbook, scenario, speed or title, 409 while another drill is
    running; nothing is written then."""
    from kuaixiang.alerts.replay import replay_rows
    from kuaixiang.alerts.sandbox import sandbox_build
    from kuaixiang.crisis.services import playbook_current

    _require_manager(actor)
    if not isinstance(playbook, str) or not playbook.strip() or len(playbook) > 50 or "\x00" in playbook:
        raise InvalidInput("unknown_playbook", "请指定预案编码", {"field": "playbook"})
    the_playbook = playbook_current(playbook.strip())
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 1 <= speed <= MAX_SPEED:
        raise InvalidInput("invalid_speed", f"时钟倍速应在 1–{MAX_SPEED:.0f} 之间", {"field": "speed"})
    title = (title or "").strip() or f"{the_playbook.name}演练"
    if len(title) > 200 or "\x00" in title:
        raise InvalidInput("invalid_title", "标题不超过 200 字", {"field": "title"})
    now = clock.now()
    kind, stored, rows = scenario_rows(scenario, end=now)
    try:
        with transaction.atomic():
            # Starts are serialised on the sandbox's root row: a second start waits, then sees this one.
            Department.objects.select_for_update().filter(pk=sandbox_build().pk).first()
            running = Drill.objects.filter(status=Drill.Status.RUNNING).first()
            if running is not None:
                message = f"演练“{running.title}”尚未结束，沙箱一次只能进行一个演练"
                raise Conflict("drill_running", message, {"id": running.pk})
            _sandbox_incidents_close()
            result = replay_rows(rows, rulepack=_rulepack(), keep=False)
            if not result.registered:
                raise InvalidInput("invalid_scenario", "场景中没有可登记的投诉", {"skipped": result.skipped[:20]})
            last = max((w.raised_at for w in result.warnings), default=now)
            incident, activation = _incident_for(the_playbook, result, min(last, now) if kind == "synthetic" else last)
            return Drill.objects.create(
                title=title,
                playbook=the_playbook,
                incident=incident,
                scenario_kind=kind,
                scenario=stored,
                activation=activation,
                speed=float(speed),
                origin=incident.activated_at,
                started_at=clock.now(),
                started_by=actor,
                rows=result.rows,
                registered=result.registered,
                skipped_rows=len(result.skipped),
                warnings=[{**asdict(w), "raised_at": w.raised_at.isoformat()} for w in result.warnings[:200]],
                replay_seconds=round(result.seconds, 3),
            )
    except IntegrityError as exc:  # another drill started at the same moment
        raise Conflict("drill_running", "已有演练在进行，沙箱一次只能进行一个演练") from exc


def _sandbox_incidents_close() -> int:
    """Close the sandbox incidents still open (left by earlier drills, or opened for other
    playbooks by their warnings), so that this drill's warnings open a fresh incident instead of
    joining an old one. Returns how many were closed."""
    from kuaixiang.crisis.models import Incident
    from kuaixiang.crisis.services import OPEN_STATUSES, incident_close

    stale = list(
        Incident.objects.filter(sandbox=True, parent__isnull=True, status__in=OPEN_STATUSES).values_list(
            "pk", flat=True
        )
    )
    for incident_id in stale:
        incident_close(incident_id=incident_id, actor=None, note="新演练开始，关闭沙箱中遗留的事件")
    return len(stale)


def _rulepack() -> str:
    """The rule pack whose alert rules the sandbox uses: the pack the playbooks were loaded from."""
    from kuaixiang.alerts.models import WarningRule

    pack = WarningRule.objects.filter(sandbox=False).exclude(pack="").values_list("pack", flat=True).first()
    return pack or "telecom"


# ---------------------------------------------------------------- running


def drill_now(drill: Drill, at: datetime | None = None) -> datetime:
    """The drill clock at real instant ``at`` (default now); frozen at the end once finished."""
    if drill.status == Drill.Status.FINISHED and drill.drill_finished_at:
        return drill.drill_finished_at
    return drill_clock(
        origin=drill.origin,
        started=drill.started_at,
        now=at or clock.now(),
        speed=drill.speed,
        skipped=timedelta(seconds=drill.skipped),
    )


def _running(drill_id: int) -> Drill:
    drill = Drill.objects.select_for_update().filter(pk=drill_id).first()
    if drill is None:
        raise NotFound("drill_not_found", "演练不存在", {"id": drill_id})
    if drill.status != Drill.Status.RUNNING:
        raise Conflict("drill_finished", "演练已结束")
    if drill.incident_id is None:
        raise Conflict("drill_no_incident", "演练事件已被删除")
    return drill


@transaction.atomic
def drill_task_done(*, drill_id: int, task_id: int, actor, note: str = ""):
    """A participant marks a step (task) of the drill incident done at the current drill time."""
    from kuaixiang.crisis.models import IncidentTask
    from kuaixiang.crisis.services import task_finish

    drill = _running(drill_id)
    task = (
        IncidentTask.objects.select_related("incident__playbook")
        .filter(pk=task_id, incident_id=drill.incident_id)
        .first()
    )
    if task is None:
        raise NotFound("task_not_found", "任务不存在", {"id": task_id})
    if not drill_can_do_task(actor, task):
        raise Forbidden("not_task_owner", "只有该步骤的负责角色或演练组织者可以完成该步骤")
    if task.state == IncidentTask.State.WAITING:
        raise Conflict("task_waiting", "该步骤在事件结束后才起算")
    if len(note) > 2000 or "\x00" in note:
        raise InvalidInput("invalid_note", "备注不超过 2000 字", {"field": "note"})
    if not task_finish(task, actor=actor, now=drill_now(drill), note=note):
        raise Conflict("task_done", "该步骤已完成")
    return task


@transaction.atomic
def drill_advance(*, drill_id: int, minutes: int, actor) -> Drill:
    """Move the drill clock ``minutes`` ahead (快进) — to rehearse later steps without waiting."""
    _require_manager(actor)
    drill = _running(drill_id)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_SKIP_MINUTES:
        raise InvalidInput("invalid_minutes", f"快进分钟数应在 1–{MAX_SKIP_MINUTES} 之间", {"field": "minutes"})
    drill.skipped += minutes * 60
    drill.save(update_fields=["skipped"])
    return drill


@transaction.atomic
def drill_incident_action(*, drill_id: int, action: str, actor) -> Drill:
    """Stabilise or close the drill incident at the current drill time (closing starts the steps
    counted from closing, such as the special report)."""
    from kuaixiang.crisis.services import incident_close, incident_stabilise

    _require_manager(actor)
    drill = _running(drill_id)
    writers = {"stabilise": incident_stabilise, "close": incident_close}
    if action not in writers:
        raise InvalidInput("unknown_action", "操作应为 stabilise 或 close", {"action": action})
    with clock.frozen(drill_now(drill)):
        writers[action](incident_id=drill.incident_id, actor=None, note="演练操作")
    return drill


def steps_scored(drill: Drill, at: datetime) -> list[dict]:
    """Each task of the drill incident with its score judged at drill time ``at`` (see ``scoring``)."""
    from kuaixiang.crisis.models import Anchor

    incident = drill.incident
    if incident is None:
        return []
    out = []
    for task in incident.tasks.select_related("done_by").order_by("order", "pk"):
        start = incident.activated_at if task.anchor == Anchor.ACTIVATION else incident.closed_at
        score = step_score(start=start or at, due=task.due_at, done=task.done_at, end=at)
        out.append({"task": task, "start": start, "score": score})
    return out


@transaction.atomic
def drill_finish(*, drill_id: int, actor, notes: str = "") -> Drill:
    """End the drill: score every step at the current drill time, store the steps and the overall
    score, then close the drill incident if it is still open."""
    from kuaixiang.crisis.models import Incident
    from kuaixiang.crisis.services import incident_close

    _require_manager(actor)
    if len(notes) > 5000 or "\x00" in notes:
        raise InvalidInput("invalid_notes", "评估意见不超过 5000 字", {"field": "notes"})
    drill = _running(drill_id)
    end = drill_now(drill)
    scored = steps_scored(drill, end)
    DrillStep.objects.bulk_create(
        [
            DrillStep(
                drill=drill,
                order=item["task"].order,
                key=item["task"].key,
                title=item["task"].title,
                owner_role=item["task"].owner_role,
                started_at=item["start"],
                due_at=item["task"].due_at,
                done_at=item["task"].done_at,
                done_by=item["task"].done_by,
                outcome=item["score"].outcome,
                late_seconds=item["score"].late_by.total_seconds() if item["score"].late_by else None,
                points=item["score"].points,
            )
            for item in scored
        ]
    )
    drill.score = drill_score([item["score"] for item in scored])
    drill.status = Drill.Status.FINISHED
    drill.finished_at = clock.now()
    drill.drill_finished_at = end
    drill.notes = notes
    drill.save()
    if drill.incident.status != Incident.Status.CLOSED:
        with clock.frozen(end):
            incident_close(incident_id=drill.incident_id, actor=None, note="演练结束")
    return drill
