"""The default calendar `cn`: official holidays from the package, Mon–Fri 09:00–12:00 and 13:30–18:00."""

import uuid

from django.db import migrations

HOURS = {day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def create_default(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Calendar.objects.get_or_create(
        code="cn",
        defaults={
            "name": "中国法定工作日历",
            "timezone": "Asia/Shanghai",
            "business_hours": HOURS,
            "use_package": True,
            "covered_years": [],
            "revision": uuid.uuid4().hex,
        },
    )


def remove_default(apps, schema_editor):
    apps.get_model("sla", "Calendar").objects.filter(code="cn").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(create_default, remove_default)]
