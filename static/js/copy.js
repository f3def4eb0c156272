// Copy buttons: <button data-copy-target="#input-id"> copies that input's value to the
// clipboard and says "Copied" for a moment. If the clipboard is not available (an insecure
// origin, or the browser refuses), the text is selected so Ctrl+C still works.
(function () {
  "use strict";

  function say(button, text) {
    var label = button.querySelector("[data-copy-label]") || button;
    var original = label.dataset.original || label.textContent;
    label.dataset.original = original;
    label.textContent = text;
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () { label.textContent = original; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copyTarget);
    if (!source) { return; }
    var fallback = function () {
      source.focus();
      source.select();
      say(button, "Press Ctrl+C");
    };
    if (!navigator.clipboard || !window.isSecureContext) { fallback(); return; }
    navigator.clipboard.writeText(source.value).then(function () { say(button, "Copied"); }, fallback);
  });
}());
