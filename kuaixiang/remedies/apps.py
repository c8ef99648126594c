from django.apps import AppConfig


class RemediesConfig(AppConfig):
    name = "kuaixiang.remedies"
    verbose_name = "授权与补偿"
