// The pipeline board: places refreshed cards in their columns and closes the side panel.
(function () {
  "use strict";

  function boardCard(id) {
    return document.querySelector("#board [data-card-id='" + id + "']");
  }

  // The refresh poll drops changed cards into #board-updates; each goes to the top of its
  // stage's column (the columns are newest first), replacing where it was before.
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = event.detail.target;
    if (!box || box.id !== "board-updates") return;
    box.querySelectorAll("[data-gone]").forEach(function (marker) {
      var old = boardCard(marker.getAttribute("data-gone"));
      if (old) old.remove();
    });
    box.querySelectorAll("[data-update-stage]").forEach(function (holder) {
      var card = holder.querySelector("[data-card-id]");
      if (!card) return;
      var old = boardCard(card.getAttribute("data-card-id"));
      if (old) old.remove();
      var column = document.getElementById("cards-" + holder.getAttribute("data-update-stage"));
      if (!column) return;
      column.insertBefore(card, column.firstChild);
      var part = column.closest("details");  // a folded part of the Closed column shows it
      if (part) part.open = true;
    });
    box.innerHTML = "";
  });

  function closePanel() {
    var panel = document.getElementById("side-panel");
    if (panel) panel.innerHTML = "";
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest("#side-panel [data-close-panel]");
    if (!close) return;
    event.preventDefault();
    closePanel();
  });
  document.addEventListener("keydown", function (event) {
    var panel = document.getElementById("side-panel");
    if (event.key === "Escape" && panel && panel.children.length) closePanel();
  });
})();
