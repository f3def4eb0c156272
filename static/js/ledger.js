// Events > Deliveries behaviour that htmx attributes cannot express under a strict CSP:
// - while deliveries are in flight (#delivery-results has data-poll) the results refresh
//   every few seconds, only while the tab is visible and never under the reader's hands
//   (a checked box or an open row would be lost by the swap);
// - the header checkbox checks every row; "Retry selected" counts the checked rows and is
//   disabled while there are none.
(function () {
  "use strict";

  var POLL_MS = 4000;

  function results() { return document.getElementById("delivery-results"); }

  function refresh() {
    var element = results();
    if (!element || !element.hasAttribute("data-poll") || document.visibilityState !== "visible") { return; }
    if (element.querySelector("input[name='ids']:checked, .herald-expand[aria-expanded='true']")) { return; }
    htmx.trigger(element, "herald:refresh");
  }

  function showSelection() {
    var element = results();
    var button = document.getElementById("retry-selected");
    if (!element || !button) { return; }
    var checked = element.querySelectorAll("input[name='ids']:checked").length;
    button.disabled = checked === 0;
    button.querySelector("[data-count]").textContent = String(checked);
  }

  document.addEventListener("change", function (event) {
    var element = results();
    if (!element || !element.contains(event.target)) { return; }
    if (event.target.id === "delivery-select-all") {
      element.querySelectorAll("input[name='ids']").forEach(function (box) { box.checked = event.target.checked; });
    }
    showSelection();
  });
  document.addEventListener("htmx:afterSettle", showSelection);
  document.addEventListener("DOMContentLoaded", showSelection);
  document.addEventListener("visibilitychange", refresh);
  window.setInterval(refresh, POLL_MS);
}());
