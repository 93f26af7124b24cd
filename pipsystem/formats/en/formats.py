"""English as pipsystem has always printed it: day, short month, year ("29 Nov 2026"), which
no reader takes for another day, and the 24-hour clock of contact-center schedules."""

DATE_FORMAT = "d M Y"
SHORT_DATE_FORMAT = "d M Y"
DATETIME_FORMAT = "d M Y H:i"
SHORT_DATETIME_FORMAT = "d M Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "d M"
