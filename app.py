"""WSGI entry point: `flask --app app ...` and `gunicorn app:app` both import this."""

from webapp import create_app

app = create_app()
