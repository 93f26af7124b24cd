from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "pips.roster"
    label = "roster"
    verbose_name = "Roster import"
