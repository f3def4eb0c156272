// Herald's map document (webapp/reports/map_builder.py). folium writes the map as inline script,
// which the frame's CSP allows by nonce; everything that is not data lives here instead, in a
// file served by 'self' and cached: a place's marker (a dot sized and coloured by the server),
// clusters that add up their places' events, the world outline and the totals line.
(function () {
  "use strict";

  function formatCount(count) {
    if (count >= 1e6) { return (count / 1e6).toFixed(count >= 1e7 ? 0 : 1) + "M"; }
    if (count >= 1e3) { return (count / 1e3).toFixed(count >= 1e4 ? 0 : 1) + "k"; }
    return String(count);
  }

  function dot(colour, size, count) {
    var element = document.createElement("span");
    element.className = "herald-dot";
    element.style.background = colour;
    element.style.width = element.style.height = size + "px";
    if (size >= 24) { element.textContent = formatCount(count); }
    return element;
  }

  // A place from the server: [lat, long, events, colour, diameter, label, popup html].
  function placeMarker(row) {
    var count = row[2];
    var marker = L.marker([row[0], row[1]], {
      icon: L.divIcon({ html: dot(row[3], row[4], count), className: "herald-place",
                        iconSize: [row[4], row[4]] }),
      title: row[5] + ": " + count.toLocaleString("en") + " events",
      riseOnHover: true,
      heraldCount: count,
      heraldColour: row[3]
    });
    marker.bindPopup(row[6], { maxWidth: 340, minWidth: 240, className: "herald-popup" });
    return marker;
  }

  // A cluster shows its places' events (not how many places) in its dominant colour.
  function clusterIcon(cluster) {
    var total = 0;
    var byColour = {};
    var colour = "#495057";
    cluster.getAllChildMarkers().forEach(function (marker) {
      var options = marker.options;
      total += options.heraldCount;
      byColour[options.heraldColour] = (byColour[options.heraldColour] || 0) + options.heraldCount;
      if (!byColour[colour] || byColour[options.heraldColour] > byColour[colour]) {
        colour = options.heraldColour;
      }
    });
    var size = Math.round(Math.min(58, 30 + 6 * Math.log10(Math.max(total, 1))));
    var element = dot(colour, size, total);
    element.classList.add("herald-dot-cluster");
    element.textContent = formatCount(total);
    return L.divIcon({ html: element, className: "herald-cluster", iconSize: [size, size] });
  }

  // Rings that cross the antimeridian (Russia's far east, Fiji) would be drawn as a stripe
  // across the whole map; their western halves move past 180 degrees east instead.
  function unwrapRing(ring) {
    var crosses = ring.some(function (point, i) {
      return i > 0 && Math.abs(point[0] - ring[i - 1][0]) > 180;
    });
    if (!crosses) { return ring; }
    return ring.map(function (point) { return point[0] < 0 ? [point[0] + 360, point[1]] : point; });
  }

  function unwrap(feature) {
    var geometry = feature.geometry;
    if (geometry && geometry.type === "Polygon") {
      geometry.coordinates = geometry.coordinates.map(unwrapRing);
    } else if (geometry && geometry.type === "MultiPolygon") {
      geometry.coordinates = geometry.coordinates.map(function (polygon) {
        return polygon.map(unwrapRing);
      });
    }
    return feature;
  }

  // Countries from the vendored world-atlas TopoJSON, under every other layer. Antarctica is
  // left out: it circles the pole, which a flat map cannot close, and no sign-in comes from it.
  function countries(world) {
    var collection = topojson.feature(world, world.objects.countries);
    collection.features = collection.features
      .filter(function (feature) { return feature.properties.name !== "Antarctica"; })
      .map(unwrap);
    return collection;
  }

  function drawWorld(map, url, onTiles) {
    var pane = map.createPane("herald-world");
    pane.style.zIndex = 250;
    pane.style.pointerEvents = "none";
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("world outline: HTTP " + response.status); }
        return response.json();
      })
      .then(function (world) {
        var style = onTiles
          ? { color: "#5c6670", weight: 0.8, fill: false }
          : { color: "#9aa4ae", weight: 0.7, fillColor: "#f7f7f4", fillOpacity: 1 };
        L.geoJSON(countries(world), {
          pane: "herald-world", interactive: false, style: style,
          attribution: "Natural Earth"
        }).addTo(map);
        map.getContainer().setAttribute("data-world", "drawn");
      });
  }

  function showTotals(map, text) {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var element = L.DomUtil.create("div", "herald-totals");
      element.textContent = text;
      return element;
    };
    control.addTo(map);
  }

  window.HeraldMap = { placeMarker: placeMarker, clusterIcon: clusterIcon, drawWorld: drawWorld,
                       showTotals: showTotals };
})();
