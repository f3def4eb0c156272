// Starts Swagger UI on the API browser page (templates/api/browser.html). A file, not an
// inline script, because the CSP allows only scripts from this origin's files. Requests made
// from the page carry the session's CSRF token, so "Try it out" works while signed in.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("api-browser");
    var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      deepLinking: true,
      requestInterceptor: function (request) {
        request.headers["X-CSRFToken"] = csrf;
        return request;
      },
    });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
