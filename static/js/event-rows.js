// Expandable event rows: the toggle button shows or hides the details row below it and keeps
// aria-expanded in step; htmx loads the details on the first open (hx-trigger="click once").
// Clicking an event's action badge does the same, as authentik's event lists do.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var badge = event.target.closest("tr.herald-event-row .herald-action");
    if (badge) {
      badge.closest("tr").querySelector("button.herald-expand").click();
      return;
    }
    var button = event.target.closest("button.herald-expand");
    if (!button) { return; }
    var details = document.getElementById(button.getAttribute("aria-controls"));
    if (!details) { return; }
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    details.hidden = !open;
  });
}());
