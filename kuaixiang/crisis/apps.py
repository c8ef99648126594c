from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "kuaixiang.crisis"
    verbose_name = "危机处置"

    def ready(self) -> None:
        from kuaixiang.alerts.signals import warning_raised
        from kuaixiang.complaints.signals import complaint_transitioned, complaints_registered
        from kuaixiang.crisis import receivers
        from kuaixiang.crisis.rulepack import playbooks_load, playbooks_parse
        from kuaixiang.rulepacks import Section, section_register

        section_register(Section("playbooks", "应急预案", 60, playbooks_parse, playbooks_load))
        warning_raised.connect(receivers.on_warning_raised, dispatch_uid="crisis_warning_raised")
        complaints_registered.connect(receivers.on_complaints_registered, dispatch_uid="crisis_complaints_registered")
        complaint_transitioned.connect(receivers.on_complaint_transitioned, dispatch_uid="crisis_complaint_reply")
