"""clock.driven: a replay's own time inside the block, the outer clock when it has none."""

from datetime import UTC, datetime

from kuaixiang import clock


def test_driven_reads_its_source_and_falls_back_to_the_outer_clock():
    outer = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    inner = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    box: list = [None]
    with clock.frozen(outer), clock.driven(lambda: box[0]):
        assert clock.now() == outer
        box[0] = inner
        assert clock.now() == inner
        box[0] = None
        assert clock.now() == outer
    with clock.frozen(outer):
        assert clock.now() == outer
