"""Supervision board (督办看板): overdue and soon-due complaints by unit, department and level."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from kuaixiang import clock
from kuaixiang.errors import InvalidInput
from kuaixiang.sla import selectors
from kuaixiang.sla.export import board_workbook
from kuaixiang.web.views import domain_errors


def board_filters(params) -> selectors.BoardFilters:
    """Parse ``state``, ``branch``, ``department`` and ``level`` query parameters (400 when bad)."""

    def number(key: str, top: int) -> int | None:
        raw = (params.get(key) or "").strip()
        if not raw:
            return None
        if not raw.isdigit() or int(raw) > top:
            raise InvalidInput("invalid_filter", f"筛选条件 {key} 应为不大于 {top} 的非负整数", {key: raw[:50]})
        return int(raw)

    state = (params.get("state") or "").strip()
    if state and state not in selectors.BOARD_STATES:
        raise InvalidInput("invalid_filter", "state 应为 overdue 或 warning", {"state": state[:50]})
    return selectors.BoardFilters(
        state=state, branch=number("branch", 2**62), department=number("department", 2**62), level=number("level", 100)
    )


def _query(filters: selectors.BoardFilters, **change) -> str:
    values = {
        "state": filters.state,
        "branch": filters.branch,
        "department": filters.department,
        "level": filters.level,
        **change,
    }
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _duration(left) -> str:
    minutes = int(abs(left.total_seconds())) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


@login_required
@domain_errors
def board(request):
    filters = board_filters(request.GET)
    now = clock.now()
    data = selectors.supervision_board(request.user, now=now, filters=filters)
    rows = selectors.supervision_rows(data)
    for row in rows:
        row["left_text"] = _duration(row["left"])
    names = {r["id"]: r["name"] for r in data.branches} | {r["id"]: r["name"] for r in data.departments}
    chips = []
    if filters.state:
        chips.append((selectors.BOARD_STATE_LABELS[filters.state], _query(filters, state="")))
    if filters.branch is not None:
        chips.append((f"单位：{names.get(filters.branch, filters.branch)}", _query(filters, branch=None)))
    if filters.department is not None:
        chips.append((f"部门：{names.get(filters.department, filters.department)}", _query(filters, department=None)))
    if filters.level is not None:
        chips.append((f"督办级别：{filters.level}", _query(filters, level=None)))
    link = reverse("sla:board")
    for group, key in ((data.branches, "branch"), (data.departments, "department")):
        for row in group:
            row["link"] = f"{link}?{_query(selectors.BoardFilters(), **{key: row['id']})}"
            row["overdue_link"] = f"{link}?{_query(selectors.BoardFilters(state='overdue'), **{key: row['id']})}"
            row["warning_link"] = f"{link}?{_query(selectors.BoardFilters(state='warning'), **{key: row['id']})}"
    for row in data.levels:
        row["link"] = f"{link}?{_query(selectors.BoardFilters(), level=row['level'])}"
    context = {
        "board": data,
        "rows": rows,
        "selected": len(data.selected()),
        "limit": selectors.BOARD_ROWS,
        "chips": chips,
        "export_query": _query(filters),
    }
    return render(request, "sla/board.html", context)


@login_required
@domain_errors
def board_export(request):
    filters = board_filters(request.GET)
    now = clock.now()
    data = selectors.supervision_board(request.user, now=now, filters=filters)
    content = board_workbook(data, selectors.supervision_rows(data, limit=selectors.EXPORT_ROWS))
    stamp = now.astimezone(clock.SHANGHAI).strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="supervision-{stamp}.xlsx"'
    return response
