"""French as written in Canada: "29/11/2026", and hours as "10 h 00" (Office québécois de la
langue française); the rest is Django's French."""

TIME_FORMAT = "H\xa0\\h\xa0i"
DATETIME_FORMAT = "j F Y, H\xa0\\h\xa0i"
SHORT_DATETIME_FORMAT = "d/m/Y H\xa0\\h\xa0i"
