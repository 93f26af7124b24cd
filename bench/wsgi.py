"""WSGI entry point of the load benchmark: the app with bench.settings (the bare view added)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
application = get_wsgi_application()
