"""Events > Map: the filtered events per place on a world map, and its frame document.

The page is the Logs filter form, a legend and an iframe; the iframe's document
(`events.map_frame`, same filter in its URL) is folium's map. That document is the only one
that runs inline script, so it is the only response whose CSP allows it, by a nonce made for
that response; every other page keeps the app-wide `script-src 'self'`. The Overview embeds
the same frame with `compact=1`.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from flask import current_app, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from webapp.events.filters import EventFilter, ParsedFilters, parse_filters
from webapp.reports.map_builder import MapOptions, render_map, use_vendored_assets
from webapp.reports.palette import CATEGORY_COLOURS
from webapp.reports.places import Place, any_located, places_for
from webapp.reports.volume import volume_chart
from webapp.views.events import bp
from webapp.views.events.filtering import FILTER_FIELDS, filtered_view, form_context
from webapp.web.security import CONTENT_SECURITY_POLICY

#: What the map shows when the URL names no filter at all.
DEFAULT_FILTER = MultiDict({"period": "7d"})
#: Ends each popup in the one render of them all; escaped values cannot contain "<".
POPUP_SEPARATOR = Markup("<!-- end of place -->")
_SCRIPT_SRC, _IMG_SRC = "script-src 'self'", "img-src 'self' data:"
if _SCRIPT_SRC not in CONTENT_SECURITY_POLICY or _IMG_SRC not in CONTENT_SECURITY_POLICY:
    raise RuntimeError("frame_policy() extends the app-wide CSP's script-src and img-src")

bp.record_once(lambda state: use_vendored_assets(state.app.static_url_path))


@bp.get("/map", endpoint="map")
def map_page():
    parsed = _parsed_filters()
    return filtered_view(parsed, lambda fragment: render_template(
        "events/_map_results.html" if fragment else "events/map.html",
        filters=parsed.filter, located=any_located(parsed.filter),
        categories=CATEGORY_COLOURS, **form_context(parsed)))


@bp.get("/map/frame")
def map_frame():
    """The map document for the page's iframe (and, with compact=1, the Overview's)."""
    parsed = _parsed_filters()
    compact = request.args.get("compact") == "1"
    summary = places_for(parsed.filter)
    if not summary.places:
        return render_template("events/_map_frame_empty.html", compact=compact)
    popups = render_template(
        "events/_map_popup.html", separator=POPUP_SEPARATOR,
        popups=[(place, place_logs_url(parsed.filter, place)) for place in summary.places],
    ).split(POPUP_SEPARATOR)[:-1]
    tiles = current_app.config["MAP_TILES_URL"] or None
    nonce = secrets.token_urlsafe(18)
    response = current_app.make_response(render_map(summary, popups, MapOptions(
        compact=compact, tiles_url=tiles,
        tiles_attribution=current_app.config["MAP_TILES_ATTRIBUTION"]), nonce))
    response.headers["Content-Security-Policy"] = frame_policy(nonce, tiles)
    return response


@bp.get("/map/chart")
def map_chart():
    """The volume chart for the map's filter; its bars and legend narrow the map."""
    parsed = _parsed_filters()
    return render_template("reports/_volume_chart.html", chart=volume_chart(parsed.filter),
                           filters=parsed.filter, chart_endpoint="events.map")


def place_logs_url(filters: EventFilter, place: Place) -> str:
    """Logs for this place under the current filter (its place fields replaced)."""
    pairs = [(name, value) for name, value in filters.query_args()
             if name not in ("country", "city")]
    pairs.append(("country", place.country))
    if place.city:
        pairs.append(("city", place.city))
    return f"{url_for('events.index')}?{urlencode(pairs)}"


def frame_policy(nonce: str, tiles_url: str | None) -> str:
    """The app-wide policy plus this response's nonce for scripts, and the tile server for
    images when online tiles are configured."""
    policy = CONTENT_SECURITY_POLICY.replace(_SCRIPT_SRC, f"{_SCRIPT_SRC} 'nonce-{nonce}'")
    source = tile_source(tiles_url)
    return policy.replace(_IMG_SRC, f"{_IMG_SRC} {source}") if source else policy


def tile_source(tiles_url: str | None) -> str | None:
    """The CSP source a tile URL template needs: `https://*.tile.example` for `{s}.` hosts,
    the bare scheme for other placeholders in the host, nothing for a same-origin path."""
    parts = urlsplit(tiles_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rpartition("@")[2]
    if host.startswith("{s}."):
        return f"{parts.scheme}://*.{host.removeprefix('{s}.')}"
    if "{" in host or "}" in host:
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def _parsed_filters() -> ParsedFilters:
    """The filter from the URL; the last 7 days when the URL names no filter field."""
    given = any(name in request.args for name in FILTER_FIELDS)
    return parse_filters(request.args if given else DEFAULT_FILTER)
