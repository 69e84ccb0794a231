"""The WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

from engine.spiff.limits import apply_process_limits
from web import create_app

apply_process_limits()  # each gunicorn process: a script's memory bomb fails that request, not the machine
app = create_app()
