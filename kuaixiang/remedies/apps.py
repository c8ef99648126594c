from django.apps import AppConfig


class RemediesConfig(AppConfig):
    name = "kuaixiang.remedies"
    verbose_name = "授权与补偿"

    def ready(self) -> None:
        from kuaixiang.remedies.rulepack import authority_load, authority_parse
        from kuaixiang.rulepacks import Section, section_register

        # After the organisation-independent sections: limits may name departments.
        section_register(Section("authority", "授权矩阵", 40, authority_parse, authority_load))
