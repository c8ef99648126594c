"""replay_rows in stretches: registering many rows at once changes nothing a row-by-row replay shows.

Each stream is replayed row by row (``stretch=1``, the reference) and with the default stretch,
and the sandbox is compared after each: the printed warnings, the complaints, the hourly series,
the counters and the warning rows.
"""

from datetime import datetime, timedelta

import pytest

from kuaixiang import clock
from kuaixiang.alerts.models import Cluster, HourlyCount, Warning, WarningCounter
from kuaixiang.alerts.replay import replay_rows
from kuaixiang.complaints import services
from kuaixiang.complaints.models import Complaint

LEAF5 = "手机/信号/4G/室内/无信号"
LEAF3 = "宽带/光猫/断线"
TEXT = "宽带账户被重复扣费两次，要求退还多扣的包月费用"


def _rows(start: datetime, n: int, step: timedelta, *, category=LEAF5, text="用户{i}反映家中室内信号差编号{k}"):
    return [
        {
            "received_at": (start + step * i).isoformat(),
            "channel": ["phone", "weibo"][i % 2],
            "category": category,
            "text": text.format(i=i, k=i * 37),
        }
        for i in range(n)
    ]


def thresholds_across_days():
    """One row every 30 s from 22:40: 160 rows on 2 March (cat5-day passes 30, 60 and 100, and the
    hour turns at 23:00), then 40 on 3 March (a new day: a new window passes 30 again)."""
    return _rows(datetime(2026, 3, 2, 22, 40, tzinfo=clock.SHANGHAI), 200, timedelta(seconds=30))


def surge():
    """Ten rows over 09:00–09:59, then 80 in 10:00–10:39 (two a minute, one category): the hour
    doubles (all-hour-change) while cat5-day passes 30 and 60."""
    rows = _rows(datetime(2026, 3, 2, 9, tzinfo=clock.SHANGHAI), 10, timedelta(minutes=6), category="宽带")
    return rows + _rows(datetime(2026, 3, 2, 10, tzinfo=clock.SHANGHAI), 80, timedelta(seconds=30))


def cluster():
    """Near-duplicate complaints in three categories among unrelated ones, two a minute for half an
    hour, some from one customer (repeats): the cluster passes 8 and 20 within the hour."""
    rows = _rows(datetime(2026, 3, 2, 14, tzinfo=clock.SHANGHAI), 60, timedelta(seconds=30))
    for i, row in enumerate(rows):
        if i % 2:
            row["category"] = ["账单", "宽带", "营业厅"][i % 3]
            row["text"] = TEXT + ("" if i % 4 == 1 else "。")
            if i % 6 == 1:
                row["phone"] = "13812345678"
    return rows


def surge_on_a_baseline():
    """A week of history (a row every six hours, one level-3 category, Weibo), then 120 rows in
    10:00–10:39 on 2 March: the category's CUSUM (cat3-surge) and the channel against the same hour
    a week before (channel-same-hour) warn, then the hour doubles."""
    rows = _rows(datetime(2026, 2, 23, 0, 17, tzinfo=clock.SHANGHAI), 28, timedelta(hours=6), category=LEAF3)
    rows += _rows(datetime(2026, 3, 2, 10, tzinfo=clock.SHANGHAI), 120, timedelta(seconds=20), category=LEAF3)
    return [dict(row, channel="weibo") for row in rows]


STREAMS = {
    "thresholds_across_days": thresholds_across_days,
    "surge": surge,
    "surge_on_a_baseline": surge_on_a_baseline,
    "cluster": cluster,
}


def _cluster_keys() -> dict[str, str]:
    """Cluster scope keys by the cluster's founding instant: the same across replays."""
    return {
        f"cluster:{pk}": f"cluster@{first_at.isoformat()}"
        for pk, first_at in Cluster.objects.filter(sandbox=True).values_list("pk", "first_at")
    }


def snapshot(result) -> dict:
    """What a replay left in the sandbox, free of ids that differ from one replay to the next."""
    keys = _cluster_keys()
    complaints = Complaint.objects.filter(intake_department__code__startswith="sandbox").order_by("received_at", "pk")
    return {
        "printed": [w.csv() for w in result.warnings],
        "registered": result.registered,
        "skipped": result.skipped,
        "complaints": [
            (c.received_at, c.created_at, c.severity, c.repeat_of_id is not None, c.duplicate_of_id is not None)
            for c in complaints
        ],
        "events": sorted(complaints.values_list("events__action", "events__at")),
        "hourly": sorted(HourlyCount.objects.filter(sandbox=True).values_list("scope_key", "hour", "count")),
        "counters": sorted(
            (code, keys.get(key, key), bucket, n)
            for code, key, bucket, n in WarningCounter.objects.filter(rule__sandbox=True).values_list(
                "rule__code", "scope_key", "bucket", "count"
            )
        ),
        "warnings": sorted(
            (code, keys.get(key, key), window_start, level, count, raised_at)
            for code, key, window_start, level, count, raised_at in Warning.objects.filter(sandbox=True).values_list(
                "rule__code", "scope_key", "window_start", "level", "count", "raised_at"
            )
        ),
    }


@pytest.fixture
def batches(monkeypatch):
    """The sizes of the batches the replay registers (undone ones included)."""
    sizes: list[int] = []
    register = services.complaint_register_bulk

    def spy(*, actor, items, at_receipt=False):
        sizes.append(len(items))
        return register(actor=actor, items=items, at_receipt=at_receipt)

    monkeypatch.setattr(services, "complaint_register_bulk", spy)
    return sizes


def replay_both(rows, batches):
    """Replay ``rows`` row by row, then in stretches; return both snapshots."""
    reference = snapshot(replay_rows(rows, stretch=1))
    assert set(batches) == {1}
    batches.clear()
    stretched = snapshot(replay_rows(rows))
    return reference, stretched


@pytest.mark.parametrize("name", STREAMS)
def test_a_stretched_replay_leaves_what_a_row_by_row_replay_leaves(db, batches, name):
    rows = STREAMS[name]()
    reference, stretched = replay_both(rows, batches)
    # The stretches were long and some were undone at a warning and redone up to it.
    assert max(batches) > 1 and sum(batches) > len(rows)
    assert len(batches) < len(rows)
    for part in reference:
        assert stretched[part] == reference[part], part
    assert reference["registered"] == len(reference["complaints"]) == len(rows)


def _cat5(warnings) -> list[tuple[str, int, int]]:
    return [(w.csv()[0], w.level, w.count) for w in warnings if w.rule == "cat5-day"]


def test_the_streams_raise_what_they_are_built_for(db):
    assert _cat5(replay_rows(thresholds_across_days()).warnings) == [
        ("2026-03-02T22:54:30+08:00", 1, 30),
        ("2026-03-02T23:09:30+08:00", 2, 60),
        ("2026-03-02T23:29:30+08:00", 3, 100),
        ("2026-03-03T00:14:30+08:00", 1, 30),
    ]
    assert "all-hour-change" in {w.rule for w in replay_rows(surge()).warnings}
    assert {"cat3-surge", "channel-same-hour"} <= {w.rule for w in replay_rows(surge_on_a_baseline()).warnings}
    assert [w.level for w in replay_rows(cluster()).warnings if w.rule == "cluster-hour"] == [1, 2]
    assert Complaint.objects.filter(repeat_of__isnull=False).exists()
    assert Complaint.objects.filter(duplicate_of__isnull=False).exists()


def test_a_stream_replayed_again_raises_the_same_surge_warnings(db):
    first = [w.csv() for w in replay_rows(surge_on_a_baseline(), stretch=1).warnings]
    assert first
    # Emptying the sandbox removes the detector states the first run left.
    assert [w.csv() for w in replay_rows(surge_on_a_baseline(), stretch=1).warnings] == first


def test_rows_out_of_time_order_all_register_as_row_by_row(db, batches):
    rows = surge()
    rows[20], rows[40] = rows[40], rows[20]  # a late row, and one the clock must go back for
    rows.insert(60, dict(rows[5], text="补录的早先投诉"))
    reference, stretched = replay_both(rows, batches)
    assert stretched["registered"] == len(stretched["complaints"]) == len(rows)
    assert stretched == reference


def test_a_row_with_a_bad_time_is_skipped_by_its_line_and_the_rest_go_through(db):
    rows = surge()
    rows[30] = dict(rows[30], received_at="2026-03-02 25:61")
    result = replay_rows(rows)
    ((line, message),) = result.skipped
    assert line == 32 and "2026-03-02 25:61" in message  # the header is line 1
    assert result.registered == Complaint.objects.count() == len(rows) - 1


@pytest.mark.parametrize("name", STREAMS)
def test_warnings_come_out_in_the_order_they_were_raised(db, name):
    warnings = replay_rows(STREAMS[name]()).warnings
    assert len(warnings) >= 2
    assert [w.raised_at for w in warnings] == sorted(w.raised_at for w in warnings)
