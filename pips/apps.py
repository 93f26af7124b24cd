from django.apps import AppConfig


class PipsConfig(AppConfig):
    name = "pips"
    verbose_name = "Performance Improvement Plans"
