from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "kuaixiang.triage"
    verbose_name = "分类分级"

    def ready(self) -> None:
        from kuaixiang.rulepacks import Section, section_register
        from kuaixiang.triage.rulepack import categories_load, categories_parse

        section_register(Section("categories", "分类", 10, categories_parse, categories_load))
