from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "kuaixiang.triage"
    verbose_name = "分类分级"

    def ready(self) -> None:
        from kuaixiang.rulepacks import Section, section_register
        from kuaixiang.triage.rulepack import categories_load, categories_parse, grading_load, grading_parse

        section_register(Section("categories", "分类", 10, categories_parse, categories_load))
        section_register(Section("grading", "分级规则", 30, grading_parse, grading_load))

        from django.db.models.signals import post_delete, post_save

        from kuaixiang.triage.assess import rules_forget
        from kuaixiang.triage.models import GradingRule

        post_save.connect(rules_forget, sender=GradingRule, dispatch_uid="triage_rules_saved")
        post_delete.connect(rules_forget, sender=GradingRule, dispatch_uid="triage_rules_deleted")
