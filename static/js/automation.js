// Automation rules: the rule form shows only the fields of the chosen trigger and action, the
// side panel closes, a refused form (422) is swapped in with its errors. No inline scripts (CSP).
// Without this file every field of the form shows and the service ignores the unused ones.
(function () {
  "use strict";

  // <div data-show-when="action=send_email webhook"> shows while the form's `action` field
  // holds one of the listed values.
  function sync(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (part) {
      var rule = part.getAttribute("data-show-when").split("=");
      var input = form.elements[rule[0]];
      if (!input) return;
      part.hidden = rule[1].split(" ").indexOf(input.value) < 0;
    });
  }

  function syncWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("form[data-rule-form]")) sync(root);
    root.querySelectorAll("form[data-rule-form]").forEach(sync);
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-rule-form]");
    if (form) sync(form);
  });
  document.addEventListener("htmx:load", function (event) { syncWithin(event.target); });
  syncWithin(document);

  // The form comes back as 422 with its errors: swap it in instead of a generic toast.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 422 && xhr.getResponseHeader("X-Signet-Fragment") === "rule-form") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Show the first field with an error, and the card that was just saved.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      var invalid = document.querySelector("#rule-panel .has-error .input");
      if (invalid) invalid.focus();
      return;
    }
    var saved = document.querySelector("#rules-board .rule-card.is-saved:not([data-shown])");
    if (!saved) return;
    saved.setAttribute("data-shown", "");
    saved.scrollIntoView({ block: "nearest", inline: "nearest", behavior: "smooth" });
  });

  function panel() { return document.getElementById("side-panel"); }

  function closePanel() {
    var holder = panel();
    if (holder) holder.innerHTML = "";
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest("#side-panel [data-close-panel]");
    if (!close) return;
    event.preventDefault();
    closePanel();
  });
  document.addEventListener("keydown", function (event) {
    var holder = panel();
    if (event.key === "Escape" && holder && holder.children.length) closePanel();
  });
})();
