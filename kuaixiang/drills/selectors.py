"""Drill reads: the list, one drill with its steps (live while running), the comparison report.

Drills run in the sandbox and hold no customer data: every staff member may read them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from kuaixiang.drills.models import Drill
from kuaixiang.drills.scoring import LATE, MET, MISSED, OPEN, UNSCORED
from kuaixiang.drills.services import drill_now, steps_scored
from kuaixiang.errors import NotFound

OUTCOME_LABELS = {MET: "按时完成", LATE: "超时完成", MISSED: "未完成（已超时）", OPEN: "进行中", UNSCORED: "未起算"}
MAX_LIST = 200


def drills_list(*, limit: int = MAX_LIST) -> list[Drill]:
    """Newest first, playbook loaded (one query)."""
    return list(Drill.objects.select_related("playbook", "started_by").order_by("-started_at", "-pk")[:limit])


def drill_get(drill_id: int) -> Drill:
    drill = (
        Drill.objects.select_related("playbook", "incident", "incident__playbook", "started_by")
        .filter(pk=drill_id)
        .first()
    )
    if drill is None:
        raise NotFound("drill_not_found", "演练不存在", {"id": drill_id})
    return drill


def drill_steps(drill: Drill, *, at: datetime | None = None) -> list[dict]:
    """The drill's steps as dicts (``order, key, title, owner_role, started_at, due_at, done_at,
    done_by, outcome, outcome_label, late_seconds, points, task_id, state``): stored once finished,
    computed from the incident's tasks at the drill clock while running."""
    if drill.status == Drill.Status.FINISHED:
        return [
            {
                "order": s.order,
                "key": s.key,
                "title": s.title,
                "owner_role": s.owner_role,
                "started_at": s.started_at,
                "due_at": s.due_at,
                "done_at": s.done_at,
                "done_by": s.done_by.username if s.done_by_id else None,
                "outcome": s.outcome,
                "outcome_label": OUTCOME_LABELS[s.outcome],
                "late_seconds": s.late_seconds,
                "points": s.points,
                "task_id": None,
                "state": "done" if s.done_at else "closed",
            }
            for s in drill.steps.select_related("done_by").order_by("order", "pk")
        ]
    now = at or drill_now(drill)
    out = []
    for item in steps_scored(drill, now):
        task, score = item["task"], item["score"]
        out.append(
            {
                "order": task.order,
                "key": task.key,
                "title": task.title,
                "owner_role": task.owner_role,
                "started_at": item["start"],
                "due_at": task.due_at,
                "done_at": task.done_at,
                "done_by": task.done_by.username if task.done_by_id else None,
                "outcome": score.outcome,
                "outcome_label": OUTCOME_LABELS[score.outcome],
                "late_seconds": score.late_by.total_seconds() if score.late_by else None,
                "points": score.points,
                "task_id": task.pk,
                "state": task.state,
            }
        )
    return out


def report_rows() -> list[dict]:
    """Finished drills, oldest first, with their outcome counts: the comparison over time (two queries)."""
    drills = list(
        Drill.objects.filter(status=Drill.Status.FINISHED)
        .select_related("playbook")
        .prefetch_related("steps")
        .order_by("started_at", "pk")
    )
    rows = []
    for drill in drills:
        counts = Counter(s.outcome for s in drill.steps.all())
        late = [s.late_seconds for s in drill.steps.all() if s.outcome == LATE and s.late_seconds]
        rows.append(
            {
                "drill": drill,
                "met": counts[MET],
                "late": counts[LATE],
                "missed": counts[MISSED],
                "unscored": counts[OPEN] + counts[UNSCORED],
                "mean_late_minutes": round(sum(late) / len(late) / 60, 1) if late else None,
            }
        )
    return rows


def chart_series(rows: list[dict]) -> dict:
    """ECharts data: one line of scores per playbook over the drills' start times."""
    series: dict[str, list] = {}
    for row in rows:
        drill = row["drill"]
        if drill.score is None:
            continue
        series.setdefault(drill.playbook.name, []).append([drill.started_at.isoformat(), drill.score])
    return {"series": [{"name": name, "data": data} for name, data in series.items()]}
