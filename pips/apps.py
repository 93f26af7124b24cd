from django.apps import AppConfig


class PipsConfig(AppConfig):
    name = "pips"
    verbose_name = "Performance Improvement Plans"

    def ready(self) -> None:
        # Connects the security log's receivers (logging only).
        from pipsystem import security  # noqa: F401
