// Copy buttons: <button data-copy="#input-id" data-copied="Copied">. Delegated, so buttons
// arriving in htmx fragments work too. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function copyFrom(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    // Plain-HTTP intranets have no clipboard API: fall back to selecting the text.
    input.focus();
    input.select();
    return Promise.resolve(document.execCommand && document.execCommand("copy"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    copyFrom(input).then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || label;
      setTimeout(function () { button.textContent = label; }, 2000);
    }, function () { input.select(); });
  });

  // Selecting the whole secret on focus saves a fiddly drag on phones.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(".secret-value")) event.target.select();
  });
})();
