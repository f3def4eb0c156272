// Events > Logs behaviour that htmx attributes cannot express under a strict CSP:
// - the Live switch polls the live tail (#live-tail) every few seconds while the tab is
//   visible, and shows an "N new events" pill when the reader has scrolled down;
// - the custom date fields appear with the "Custom range" period;
// - the action picker's button names what is chosen;
// - fields whose inline message is showing are marked aria-invalid.
(function () {
  "use strict";

  var POLL_MS = 2500;
  var STORAGE_KEY = "herald-live-tail";
  var timer = null;
  var unseen = 0;

  function liveTail() { return document.getElementById("live-tail"); }
  function pill() { return document.getElementById("new-events-pill"); }
  function status(text) {
    var element = document.getElementById("live-status");
    if (element) { element.textContent = text; }
  }

  function tick() {
    var tail = liveTail();
    if (document.visibilityState !== "visible" || !tail || tail.dataset.paused) { return; }
    htmx.trigger(tail, "herald:tick");
  }

  function setLive(on) {
    window.clearInterval(timer);
    timer = null;
    try { window.sessionStorage.setItem(STORAGE_KEY, on ? "on" : "off"); } catch (e) { /* private mode */ }
    if (!on) { status(""); return; }
    var tail = liveTail();
    if (tail && tail.dataset.paused) { status("(only on the newest page)"); return; }
    status("(watching for new events)");
    timer = window.setInterval(tick, POLL_MS);
  }

  function scrolledAway() {
    var table = document.getElementById("event-table");
    return table ? table.getBoundingClientRect().top < 0 : false;
  }

  function showNewRows(tbody) {
    var fresh = tbody.querySelectorAll("tr.herald-new");
    var empty = tbody.querySelector("tr.herald-empty-row");
    if (empty) { empty.remove(); }
    window.setTimeout(function () {
      fresh.forEach(function (row) { row.classList.remove("herald-new"); });
    }, 4000);
    var button = pill();
    if (!button || !scrolledAway()) { return; }
    unseen += fresh.length;
    button.querySelector("[data-count]").textContent = String(unseen);
    button.hidden = false;
  }

  function markInvalidFields() {
    document.querySelectorAll(".herald-filter-error").forEach(function (slot) {
      var field = document.getElementById(slot.dataset.errorFor);
      if (!field) { return; }
      if (slot.textContent.trim()) { field.setAttribute("aria-invalid", "true"); }
      else { field.removeAttribute("aria-invalid"); }
    });
  }

  function summariseActions(picker) {
    var chosen = Array.prototype.map.call(
      picker.querySelectorAll("input[name=action]:checked"), function (box) { return box.value; });
    var label = chosen.length === 0 ? "Any action"
      : chosen.length < 3 ? chosen.join(", ") : chosen.length + " actions";
    picker.querySelector("[data-action-summary]").textContent = label;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "live-switch") { setLive(target.checked); }
    if (target.id === "filter-period") {
      var range = document.querySelector(".herald-custom-range");
      if (range) { range.hidden = target.value !== "custom"; }
    }
    if (target.name === "action") { summariseActions(target.closest(".herald-action-picker")); }
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest("#new-events-pill")) { return; }
    unseen = 0;
    pill().hidden = true;
    document.getElementById("event-filters").scrollIntoView({ behavior: "smooth" });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "event-rows") {
      showNewRows(event.detail.target);
    }
    if (event.detail.target && event.detail.target.id === "event-results") {
      var live = document.getElementById("live-switch");
      if (live) { setLive(live.checked); }
    }
  });
  document.addEventListener("htmx:afterSettle", markInvalidFields);
  document.addEventListener("htmx:oobAfterSwap", markInvalidFields);

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live-switch");
    var remembered = null;
    try { remembered = window.sessionStorage.getItem(STORAGE_KEY); } catch (e) { /* private mode */ }
    if (live && remembered === "on") { live.checked = true; setLive(true); }
  });
}());
