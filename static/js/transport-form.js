// The transport form's mode switch: fields marked data-modes="webhook email ..." are shown only
// while the Mode select holds one of those modes (the server renders the first state, and
// ignores hidden fields on save).
(function () {
  "use strict";

  function sync(form) {
    var mode = form.querySelector("select[name=mode]").value;
    form.querySelectorAll("[data-modes]").forEach(function (wrapper) {
      wrapper.hidden = wrapper.dataset.modes.split(" ").indexOf(mode) === -1;
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("[data-transport-form]");
    if (form && event.target.name === "mode") { sync(form); }
  });
}());
