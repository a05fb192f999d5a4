"""URL pieces the web blueprints share: an order number as one path parameter."""
from __future__ import annotations

from werkzeug.routing import PathConverter


class OrderNoConverter(PathConverter):
    """Any order number the rules accept, `/` included; anything else that is text (a newline
    too) still reaches the view, which answers "unknown order" rather than "no such page"."""
    regex = r"[^/](?:.|\n)*?"


def install_converters(state) -> None:
    """For `Blueprint.record_once`: make `<order_no:…>` known to the app the blueprint joins."""
    state.app.url_map.converters.setdefault("order_no", OrderNoConverter)
