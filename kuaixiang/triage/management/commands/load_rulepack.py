from django.core.management.base import BaseCommand, CommandError

from kuaixiang.triage.rulepack import RulepackError, rulepack_load


class Command(BaseCommand):
    help = "Load (or update, matching by code) the categories and SLA policies of a YAML rule pack."

    def add_arguments(self, parser):
        parser.add_argument("path", help="rule pack file, e.g. rulepacks/telecom.yaml")

    def handle(self, *args, path: str, **options):
        try:
            result = rulepack_load(path)
        except RulepackError as exc:
            raise CommandError(exc.message) from None
        counts = f"新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}"
        line = f"{path}：分类 {result.total} 个（{counts}）"
        if result.sla is not None:
            sla = result.sla
            line += f"；时限策略 {sla.total} 个（新增 {sla.created}，更新 {sla.updated}，未变 {sla.unchanged}）"
        self.stdout.write(line)
