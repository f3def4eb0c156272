// Search-as-you-type pickers (templates/partials/_picker.html, webapp/forms/pickers.py).
//
// The text box is an ARIA 1.2 combobox with a listbox popup. Typing asks the picker's search
// route for matches (through htmx, so its request headers and its sign-in redirect apply);
// Down opens the list or moves to the next match, Up to the previous one, Enter or a click
// chooses, Escape closes the list (or, when it is closed, empties the box), Tab leaves.
// Choosing copies the match's value into the hidden input the form posts. Typing again
// clears that value, so the form never posts a choice the box no longer shows; a picker that
// posts usernames posts what is typed, which the server then checks.
// Listeners sit on the document, so pickers that htmx swaps in later work the same.
(function () {
  "use strict";

  var DELAY_MS = 150;
  var timers = new WeakMap();

  function pickerOf(element) {
    var root = element && element.closest ? element.closest(".herald-picker") : null;
    return root && {
      root: root,
      input: root.querySelector("[role=combobox]"),
      hidden: root.querySelector("[data-picker-hidden]"),
      list: root.querySelector("[role=listbox]"),
      status: root.querySelector("[data-picker-status]")
    };
  }

  function choices(picker) {
    return Array.prototype.slice.call(
      picker.list.querySelectorAll("[role=option]:not([aria-disabled=true])"));
  }

  function isOpen(picker) {
    return !picker.list.hidden;
  }

  function setOpen(picker, open) {
    picker.list.hidden = !open;
    picker.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      highlight(picker, null);
    }
  }

  function highlight(picker, option) {
    choices(picker).forEach(function (each) {
      each.classList.toggle("active", each === option);
      each.setAttribute("aria-selected", each === option ? "true" : "false");
    });
    if (option) {
      picker.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    } else {
      picker.input.removeAttribute("aria-activedescendant");
    }
  }

  function search(picker) {
    htmx.ajax("GET", picker.root.dataset.pickerSource, {
      source: picker.input, target: picker.list, swap: "innerHTML",
      values: {q: picker.input.value}
    });
  }

  function choose(picker, option) {
    picker.hidden.value = option.dataset[picker.root.dataset.pickerValue];
    picker.input.value = option.dataset.label;
    picker.root.dataset.pickerChosen = "true";
    setOpen(picker, false);
    picker.status.textContent = option.dataset.label + " chosen.";
  }

  document.addEventListener("input", function (event) {
    var picker = pickerOf(event.target);
    if (!picker || event.target !== picker.input) {
      return;
    }
    picker.hidden.value = picker.root.dataset.pickerValue === "label" ? picker.input.value : "";
    delete picker.root.dataset.pickerChosen;
    clearTimeout(timers.get(picker.root));
    timers.set(picker.root, setTimeout(function () { search(picker); }, DELAY_MS));
  });

  document.addEventListener("keydown", function (event) {
    var picker = pickerOf(event.target);
    if (!picker || event.target !== picker.input) {
      return;
    }
    var options = choices(picker);
    var current = options.indexOf(picker.list.querySelector("[aria-selected=true]"));
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (isOpen(picker)) {
        highlight(picker, options[Math.min(current + 1, options.length - 1)] || null);
      } else {
        delete picker.root.dataset.pickerChosen;
        search(picker);  // the list opens when the matches arrive
      }
    } else if (event.key === "ArrowUp" && isOpen(picker)) {
      event.preventDefault();
      highlight(picker, options[Math.max(current - 1, 0)] || null);
    } else if (event.key === "Enter" && isOpen(picker) && current >= 0) {
      event.preventDefault();  // choosing, not submitting the form
      choose(picker, options[current]);
    } else if (event.key === "Escape" && (isOpen(picker) || picker.input.value)) {
      event.preventDefault();
      if (isOpen(picker)) {
        setOpen(picker, false);
      } else {
        picker.input.value = picker.hidden.value = "";
        delete picker.root.dataset.pickerChosen;
      }
    } else if (event.key === "Tab") {
      setOpen(picker, false);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest ? event.target.closest(".herald-picker [role=option]") : null;
    if (!option) {
      return;
    }
    event.preventDefault();  // the text box keeps the focus
    if (option.getAttribute("aria-disabled") !== "true") {
      choose(pickerOf(option), option);
    }
  });

  document.addEventListener("focusout", function (event) {
    var picker = pickerOf(event.target);
    if (picker && !picker.root.contains(event.relatedTarget)) {
      setOpen(picker, false);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var picker = pickerOf(event.detail.target);
    if (!picker || event.detail.target !== picker.list) {
      return;
    }
    picker.list.querySelectorAll("[role=option]").forEach(function (option, index) {
      option.id = picker.list.id + "-" + index;
    });
    var count = choices(picker).length;
    picker.status.textContent = count === 0 ? "No matches." :
      count + (count === 1 ? " match" : " matches") + ": use the arrow keys to choose.";
    // A late answer for a box that has been left, or that has its choice, stays shut.
    setOpen(picker, document.activeElement === picker.input && !picker.root.dataset.pickerChosen);
  });

  // This script is deferred: whatever was typed before it ran went unheard, so hear it now.
  document.querySelectorAll(".herald-picker [role=combobox]").forEach(function (input) {
    if (input.value !== input.defaultValue) {
      input.dispatchEvent(new Event("input", {bubbles: true}));
    }
  });
})();
