"""manage.py replay: CSV through intake into the sandbox, warnings printed as CSV."""

import csv
import io

from django.core.management import call_command

from kuaixiang.alerts.models import Warning, WarningRule
from kuaixiang.alerts.replay import replay_rows
from kuaixiang.complaints.models import Complaint
from kuaixiang.notify.models import Notification


def _csv(tmp_path, rows):
    path = tmp_path / "stream.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["received_at", "channel", "category", "text", "phone"])
        w.writerows(rows)
    return path


def burst(n, start_hour=9, category="手机/信号/4G/室内/无信号"):
    return [
        [
            f"2026-03-02T{start_hour + i // 60:02d}:{i % 60:02d}:00",
            "phone",
            category,
            f"第{i}位用户家中室内信号差编号{i * 37}",
            "",
        ]
        for i in range(n)
    ]


def test_replay_prints_each_warning_and_each_rise(db, tmp_path):
    path = _csv(
        tmp_path,
        burst(100) + [["not a time", "phone", "手机", "x", ""], ["2026-03-02T12:00:00", "pigeon", "手机", "x", ""]],
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("replay", "--csv", str(path), "--instant", stdout=out, stderr=err)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["raised_at", "rule", "scope", "level", "count"]
    cat5 = [r for r in rows[1:] if r[1] == "cat5-day"]
    assert [(r[2], r[3], r[4]) for r in cat5] == [
        ("手机/信号/4G/室内/无信号", "1", "30"),
        ("手机/信号/4G/室内/无信号", "2", "60"),
        ("手机/信号/4G/室内/无信号", "3", "100"),
    ]
    assert cat5[2][0] == "2026-03-02T10:39:00+08:00"  # the 100th complaint's own time
    assert "第 102 行" in err.getvalue() and "第 103 行" in err.getvalue()
    assert Warning.objects.filter(sandbox=True).count() >= 1 and not Warning.objects.filter(sandbox=False).exists()
    # Nobody outside the sandbox is told, and nothing goes by e-mail.
    assert not Notification.objects.exclude(recipient__username__startswith="sandbox-").exists()
    assert not Notification.objects.filter(channel="email").exists()


def test_the_sandbox_is_emptied_unless_keep(db):
    rows = [{"received_at": "2026-03-02T09:00:00", "channel": "微博", "category": "账单", "text": "乱扣费"}]
    assert replay_rows(rows).registered == 1
    replay_rows(rows)
    assert Complaint.objects.count() == 1
    replay_rows(rows, keep=True)
    assert Complaint.objects.count() == 2
    assert WarningRule.objects.filter(sandbox=True, active=True).count() >= 5
    assert not WarningRule.objects.filter(sandbox=False).exists()


def test_a_growing_cluster_warns_across_categories(db):
    text = "宽带账户被重复扣费两次，要求退还多扣的包月费用"
    rows = [
        {
            "received_at": f"2026-03-02T09:{i:02d}:00",
            "channel": "phone",
            "category": ["账单", "宽带", "营业厅"][i % 3],
            "text": text,
        }
        for i in range(10)
    ]
    result = replay_rows(rows)
    cluster = [w for w in result.warnings if w.rule == "cluster-hour"]
    assert cluster and cluster[0].scope.startswith("cluster: ")
    warning = Warning.objects.get(pk=cluster[0].warning_id)
    assert warning.cluster.size >= 8 and warning.cluster.top_terms


def _surge_stream():
    """Ten complaints spread over 09:00–09:59, then 60 in 10:00–10:29 (two a minute): the hour
    doubles (all-hour-change) and one level-5 category passes 30 and 60 in the day (cat5-day)."""
    rows = [
        {"received_at": f"2026-03-02T09:{i * 6:02d}:00", "channel": "phone", "category": "宽带", "text": f"宽带慢{i}"}
        for i in range(10)
    ]
    rows += [
        {
            "received_at": f"2026-03-02T10:{i // 2:02d}:{(i % 2) * 30:02d}",
            "channel": ["phone", "weibo"][i % 2],
            "category": "手机/信号/4G/室内/无信号",
            "text": f"第{i}位用户家中室内信号差编号{i * 37}",
        }
        for i in range(60)
    ]
    return rows


def _raised(result):
    return [(w.raised_at, w.rule, w.scope, w.level, w.count) for w in result.warnings]


def test_remembering_reads_across_minutes_changes_no_warning(db, monkeypatch):
    from contextlib import nullcontext

    from kuaixiang import batch
    from kuaixiang.alerts import baseline

    remembered = _raised(replay_rows(_surge_stream()))
    assert {"all-hour-change", "cat5-day"} <= {rule for _, rule, _, _, _ in remembered}

    class Forgetful(baseline.PastSeries):
        """Reads everything again at every evaluation (what a replay did before remembering)."""

        def at(self, hour):
            self.first = {}
            return {}

    monkeypatch.setattr(baseline, "PastSeries", Forgetful)
    monkeypatch.setattr(batch, "batch_job", nullcontext)
    assert _raised(replay_rows(_surge_stream())) == remembered


def test_a_replay_evaluates_only_the_sandbox_surge_rules(db):
    from datetime import datetime

    from kuaixiang import clock
    from kuaixiang.alerts.models import HourlyCount
    from tests.alerts.conftest import make_rule

    # The live series doubles in the replayed hour: a live rule evaluated at the replay's simulated
    # time would warn about real complaints.
    ten = datetime(2026, 3, 2, 10, tzinfo=clock.SHANGHAI)
    HourlyCount.objects.create(sandbox=False, scope_key="all", hour=ten, count=80)
    HourlyCount.objects.create(sandbox=False, scope_key="all", hour=ten.replace(hour=9), count=5)
    make_rule(code="live-change", group_by="all", condition="hour_change", window_kind="rolling_hours")
    result = replay_rows(_surge_stream())
    assert "all-hour-change" in {w.rule for w in result.warnings}
    assert not Warning.objects.filter(sandbox=False).exists()
