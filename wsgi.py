"""WSGI entry point: `gunicorn wsgi:app`. Reads $LINERELAY_CONFIG, else ./config.toml."""
from bot.app import create_app

app = create_app()
