"""WSGI entry point: `gunicorn wsgi:app`. Reads $LINERELAY_CONFIG, else ./config.toml."""
import gc

from bot.app import create_app

app = create_app()
app.extensions["linerelay"].messages.warm()   # every template compiled before the first request
# What start-up made (modules, templates, the schema, the caches' first fill) lives as long as the
# worker: frozen out of the collector's way, its full collections walk only what requests left
# behind (bench/board.py: a board page's p99 at 10,000 orders went from ~170 to ~80-100 ms).
gc.collect()
gc.freeze()
