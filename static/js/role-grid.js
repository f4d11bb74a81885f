// The role grid: each scope picker saves itself (htmx); this shows "saving" and failures.
(function () {
  "use strict";

  var grid = document.getElementById("role-grid");
  if (!grid) return;

  function stateOf(element) {
    var cell = element && element.closest ? element.closest(".grant-cell") : null;
    return cell ? { cell: cell, text: cell.querySelector(".grant-state") } : null;
  }

  function show(element, kind, message) {
    var state = stateOf(element);
    if (!state || !state.text) return;
    state.cell.classList.remove("is-saved", "is-failed", "is-saving");
    state.cell.classList.add("is-" + kind);
    state.text.textContent = message;
  }

  grid.addEventListener("htmx:beforeRequest", function (event) {
    show(event.target, "saving", grid.getAttribute("data-saving"));
  });

  // A refused cell comes back as 400/409 with the cell showing why and the stored value:
  // swap it in (htmx leaves error answers out by default) instead of a generic toast.
  grid.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("X-Signet-Fragment") === "grant-cell") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  grid.addEventListener("htmx:sendError", function (event) {
    show(event.target, "failed", grid.getAttribute("data-unsaved"));
  });
  grid.addEventListener("htmx:responseError", function (event) {
    show(event.target, "failed", grid.getAttribute("data-failed"));
  });
})();
