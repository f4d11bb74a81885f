// The verify form: refuse a file over the size limit before uploading it, and show that the
// check is running (a large PDF takes a moment to upload on a phone).
(function () {
  "use strict";

  var form = document.getElementById("verify-form");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  var error = document.getElementById("verify-file-error");
  var button = form.querySelector(".verify-submit");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var label = button ? button.textContent : "";

  function tooLarge() {
    var file = input && input.files && input.files[0];
    return Boolean(file && maxBytes && file.size > maxBytes);
  }

  function showSizeError() {
    var refused = tooLarge();
    error.textContent = refused ? form.getAttribute("data-too-large") : "";
    error.hidden = !refused;
    return refused;
  }

  if (input) input.addEventListener("change", showSizeError);

  form.addEventListener("submit", function (event) {
    if (showSizeError()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      input.focus();
      return;
    }
    if (button) {
      button.textContent = form.getAttribute("data-checking");
      button.setAttribute("aria-busy", "true");
    }
  });

  // Back from a result: the page may come from the cache still saying "checking".
  window.addEventListener("pageshow", function () {
    if (!button) return;
    button.textContent = label;
    button.removeAttribute("aria-busy");
  });
})();
