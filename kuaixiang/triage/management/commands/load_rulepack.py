from django.core.management.base import BaseCommand, CommandError

from kuaixiang.rulepacks import RulepackError, pack_names, rulepack_load


class Command(BaseCommand):
    help = "Load (or update, matching by code) a rule pack: categories, time limits and the other sections."

    def add_arguments(self, parser):
        parser.add_argument("pack", help=f"rule pack name ({', '.join(pack_names())}), directory or YAML file")

    def handle(self, *args, pack: str, **options):
        try:
            result = rulepack_load(pack)
        except RulepackError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(result.summary())
