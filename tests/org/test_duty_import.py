"""Excel import of the roster: documented layout, row-numbered errors, all or nothing."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from kuaixiang.errors import InvalidInput
from kuaixiang.org.models import Shift
from kuaixiang.org.services import IMPORT_COLUMNS, roster_import, roster_template_xlsx

HEADER = list(IMPORT_COLUMNS)


def xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = [
    ["2026-11-23", "白班", "08:30", "17:30", "a-centre", "班长", "lead"],
    ["2026-11-23", "夜班", "17:30", "08:30", "a-centre", "lead", "lead"],
    ["2026-11-28", "周末值班", "09:00", "18:00", "a-network", "部门负责人", "head"],
]


def test_a_good_sheet_imports_every_row(org):
    created = roster_import(data=xlsx(GOOD), actor=org.admin)
    assert len(created) == 3
    night = Shift.objects.get(kind="night")
    assert (night.user, night.department, night.role) == (org.lead, org.centre, "lead")
    assert night.ends_at > night.starts_at


def test_real_excel_dates_and_times_are_accepted(org):
    from datetime import date, time

    created = roster_import(data=xlsx([[date(2026, 11, 23), "day", time(8), time(17), "a-centre", "lead", "lead"]]),
                            actor=org.admin)  # fmt: skip
    assert created[0].start == time(8)


def test_any_bad_row_rejects_the_whole_file_with_row_numbers(org):
    rows = [
        GOOD[0],
        ["2026-13-40", "白班", "08:30", "17:30", "a-centre", "班长", "lead"],
        ["2026-11-23", "午班", "8点", "17:30", "nowhere", "老板", "ghost"],
        GOOD[0],
    ]
    with pytest.raises(InvalidInput) as caught:
        roster_import(data=xlsx(rows), actor=org.admin)
    assert caught.value.code == "import_invalid"
    by_row = {r["row"]: r["errors"] for r in caught.value.details["rows"]}
    assert set(by_row) == {3, 4, 5}
    assert any("日期" in e for e in by_row[3])
    assert len(by_row[4]) == 5  # time, department, role, user, shift type
    assert by_row[5] == ["与前面的行重复"]
    assert not Shift.objects.exists()


def test_rows_outside_the_importers_scope_are_refused(org):
    rows = [GOOD[0], ["2026-11-23", "白班", "08:30", "17:30", "b-centre", "坐席", "outside_agent"]]
    with pytest.raises(InvalidInput) as caught:
        roster_import(data=xlsx(rows), actor=org.manager)
    assert caught.value.details["rows"][0]["row"] == 3
    assert not Shift.objects.exists()


def test_a_row_clashing_with_an_existing_shift_rolls_back_everything(org):
    roster_import(data=xlsx([GOOD[1]]), actor=org.admin)
    with pytest.raises(InvalidInput) as caught:
        roster_import(data=xlsx([GOOD[0], GOOD[1]]), actor=org.admin)
    assert caught.value.details["rows"][0]["row"] == 3
    assert Shift.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a workbook", "import_unreadable"),
        (xlsx([], header=["日期", "班次"]), "import_header"),
        (xlsx([]), "import_empty"),
    ],
)
def test_unusable_files_are_refused(org, data, code):
    with pytest.raises(InvalidInput) as caught:
        roster_import(data=data, actor=org.admin)
    assert caught.value.code == code


def test_the_template_download_has_the_documented_header_and_imports(org):
    book = load_workbook(io.BytesIO(roster_template_xlsx()))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert book.sheetnames == ["值班表", "说明"]
