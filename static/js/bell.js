// The bell's count polls itself (hx-trigger in templates/notifications/_count.html). htmx can
// only filter a trigger with a JavaScript expression it evaluates, which the app's CSP
// (script-src 'self', no eval) forbids; so this vetoes the count's requests while the tab is
// hidden instead, and the count's own `visibilitychange from:document` trigger refreshes it
// the moment the tab is shown again.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id === "bell-count" && document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });
})();
