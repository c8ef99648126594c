"""stages_save writes every column of ComplaintStage (its insert names them)."""

from kuaixiang.sla.models import ComplaintStage
from kuaixiang.sla.services import STAGE_COLUMNS


def test_the_insert_names_every_column_of_a_stage():
    columns = {f.column for f in ComplaintStage._meta.concrete_fields if not f.primary_key}
    assert set(STAGE_COLUMNS) == columns
    assert len(STAGE_COLUMNS) == len(columns)
