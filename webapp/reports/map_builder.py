"""The event map as a folium document: places as clustered dots, a heat layer, the world.

folium renders a complete HTML document whose map is inline script. Herald serves it on a
route of its own inside an iframe, with a CSP that allows exactly that script by a
per-response nonce (`render_map` stamps it on folium's inline `<script>` tags); every datum in
that script (places, popups, totals) is written through `tojson`, which escapes `<`, so no
value can close the script or open another. Everything that is not data (marker and cluster
drawing, the world outline) is static/js/map-frame.js, served by 'self'.

folium's own asset lists point at CDNs and at jQuery, Bootstrap's JS and awesome-markers (for
`folium.Icon`, not used here). `use_vendored_assets` repoints the class-level lists at
static/vendor once at startup, so the map makes no request to another host.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import FastMarkerCluster, HeatMap, MarkerCluster
from folium.template import Template

from webapp.reports.palette import CATEGORY_COLOURS
from webapp.reports.places import PlaceSummary

#: Roughly the inhabited world, which the map fits to whatever size its frame has.
WORLD_BOUNDS = [[-48.0, -168.0], [72.0, 180.0]]
#: Dot diameters in pixels: the busiest place gets the largest, area grows with the count.
DOT_SIZES = {False: (14, 46), True: (10, 28)}  # compact: smaller
WORLD_DATA = "vendor/world-atlas/countries-110m.json"
#: (class, js or css, [(folium's name for the asset, path under static/)]).
_VENDORED = (
    (folium.Map, "js", [("leaflet", "vendor/leaflet/leaflet.js")]),
    (folium.Map, "css", [("leaflet_css", "vendor/leaflet/leaflet.css"),
                         ("bootstrap_css", "vendor/bootstrap/bootstrap.min.css")]),
    (MarkerCluster, "js", [("markerclusterjs",
                            "vendor/leaflet.markercluster/leaflet.markercluster.js")]),
    (MarkerCluster, "css", [("markerclustercss", "vendor/leaflet.markercluster/MarkerCluster.css"),
                            ("markerclusterdefaultcss",
                             "vendor/leaflet.markercluster/MarkerCluster.Default.css")]),
    (HeatMap, "js", [("leaflet-heat.js", "vendor/leaflet.heat/leaflet-heat.js")]),
)


class HeraldLayers(JSCSSMixin, MacroElement):
    """The world outline and the totals line; loads topojson-client and Herald's map script."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            HeraldMap.drawWorld({{ this._parent.get_name() }}, {{ this.world_url|tojson }},
                                {{ this.on_tiles|tojson }});
            {%- if this.totals %}
            HeraldMap.showTotals({{ this._parent.get_name() }}, {{ this.totals|tojson }});
            {%- endif %}
        {% endmacro %}
    """)
    default_js: list[tuple[str, str]] = []  # filled by use_vendored_assets
    default_css: list[tuple[str, str]] = []
    world_url = ""

    def __init__(self, on_tiles: bool, totals: str | None) -> None:
        super().__init__()
        self._name = "HeraldLayers"
        self.on_tiles = on_tiles
        self.totals = totals


def use_vendored_assets(static_url_path: str) -> None:
    """Point folium's class-level asset lists at static/vendor (idempotent: assigns in place,
    so folium's module-level aliases of the same lists change too)."""
    def url(path: str) -> str:
        return f"{static_url_path}/{path}"

    for cls, kind, assets in _VENDORED:
        getattr(cls, f"default_{kind}")[:] = [(name, url(path)) for name, path in assets]
    HeraldLayers.default_js[:] = [
        ("topojson-client", url("vendor/topojson-client/topojson-client.min.js")),
        ("herald-map", url("js/map-frame.js"))]
    HeraldLayers.default_css[:] = [("herald-map-css", url("css/map-frame.css"))]
    HeraldLayers.world_url = url(WORLD_DATA)


@dataclass(frozen=True)
class MapOptions:
    #: The small variant for dashboards: no layer control, heat layer or totals; no scroll zoom.
    compact: bool = False
    tiles_url: str | None = None
    tiles_attribution: str | None = None
    title: str = "Event map"


def render_map(summary: PlaceSummary, popups: Sequence[str], options: MapOptions,
               nonce: str) -> str:
    """The whole map document; `popups[i]` is the (escaped) HTML of `summary.places[i]`."""
    if not HeraldLayers.world_url:
        raise RuntimeError("use_vendored_assets() has not run (create_app calls it)")
    compact = options.compact
    figure_map = folium.Map(tiles=None, maxZoom=18, min_zoom=0, zoom_start=2,
                            zoom_snap=0.25, world_copy_jump=True,
                            scroll_wheel_zoom=not compact, font_size="0.875rem")
    figure_map.get_root().title = options.title
    if options.tiles_url:
        folium.TileLayer(options.tiles_url, name="Map", max_zoom=18,
                         attr=options.tiles_attribution or "Map tiles").add_to(figure_map)
    layers = HeraldLayers(on_tiles=bool(options.tiles_url),
                          totals=None if compact else totals_text(summary))
    layers.add_to(figure_map)
    FastMarkerCluster(_marker_rows(summary, popups, compact), callback="HeraldMap.placeMarker",
                      icon_create_function="HeraldMap.clusterIcon", name="Places",
                      show_coverage_on_hover=False, max_cluster_radius=45,
                      control=not compact).add_to(figure_map)
    if not compact:
        HeatMap(_heat_rows(summary), name="Heat map", show=False, radius=28, blur=22,
                min_opacity=0.35, max_zoom=5).add_to(figure_map)
        folium.LayerControl(collapsed=False).add_to(figure_map)
    figure_map.fit_bounds(WORLD_BOUNDS)
    return _with_nonce(figure_map.get_root().render(), nonce)


def totals_text(summary: PlaceSummary) -> str:
    places = len(summary.places)
    text = (f"{summary.shown:,} event{'s' if summary.shown != 1 else ''} in {places:,} "
            f"place{'s' if places != 1 else ''}")
    if summary.not_shown:
        text += (f" · {summary.not_shown:,} more in {summary.not_shown_places:,} "
                 "smaller or unplaced places not drawn")
    return text


def _marker_rows(summary: PlaceSummary, popups: Sequence[str], compact: bool) -> list[list]:
    smallest, largest = DOT_SIZES[compact]
    busiest = summary.busiest or 1
    return [[place.lat, place.long, place.count, CATEGORY_COLOURS[place.category],
             round(smallest + (largest - smallest) * math.sqrt(place.count / busiest)),
             place.label, popup]
            for place, popup in zip(summary.places, popups, strict=True)]


def _heat_rows(summary: PlaceSummary) -> list[list[float]]:
    busiest = summary.busiest or 1
    return [[place.lat, place.long, round(math.sqrt(place.count / busiest), 4)]
            for place in summary.places]


def _with_nonce(document: str, nonce: str) -> str:
    """Stamp the nonce on folium's inline scripts (exactly `<script>`: its links carry src),
    and name the document's language."""
    return (document.replace("<script>", f'<script nonce="{nonce}">')
            .replace("<html>", '<html lang="en">', 1))

