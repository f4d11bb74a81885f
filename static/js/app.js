// Small behaviours shared by every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function showToast(text) {
    var toast = document.getElementById("toast");
    if (!toast || !text) return;
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(function () { toast.hidden = true; }, 6000);
  }

  // htmx leaves 4xx/5xx answers unswapped: show their message instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var holder = document.createElement("div");
    holder.innerHTML = xhr.responseText || "";
    var message = holder.querySelector("#error p:not(.error-code)");
    showToast(message ? message.textContent : "Error " + xhr.status);
  });
  document.addEventListener("htmx:sendError", function () {
    showToast(document.documentElement.lang === "ru" ? "Нет связи с сервером." :
      document.documentElement.lang === "pt" ? "Sem ligação ao servidor." : "The server cannot be reached.");
  });

  function wideScreen() { return !window.matchMedia || window.matchMedia("(min-width: 1150px)").matches; }

  // The menu is a <details> drawer on phones and an always-open bar on wide screens.
  var menu = document.getElementById("main-menu");
  if (menu && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 1150px)");
    var syncMenu = function () { menu.open = wide.matches; };
    wide.addEventListener("change", syncMenu);
    syncMenu();
  }

  // The Administration dropdown closes on a click elsewhere or Escape, as menus do.
  var adminMenu = document.getElementById("admin-menu");
  if (adminMenu) {
    document.addEventListener("click", function (event) {
      if (adminMenu.open && !adminMenu.contains(event.target) && wideScreen()) adminMenu.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && adminMenu.open) { adminMenu.open = false; adminMenu.querySelector("summary").focus(); }
    });
  }

  // A file over the upload limit is refused here, before minutes of uploading end in an
  // error page that loses what was typed: <input type=file data-max-bytes data-too-large>.
  function oversizedFile(input) {
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10) || 0;
    var file = input.files && input.files[0];
    return Boolean(limit && file && file.size > limit);
  }

  function showFileSize(input) {
    var note = input.parentNode.querySelector(".file-size-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "file-size-error errors";
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    var refused = oversizedFile(input);
    note.textContent = refused ? input.getAttribute("data-too-large") : "";
    note.hidden = !refused;
    return refused;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) {
      showFileSize(event.target);
    }
  });
  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      if (showFileSize(inputs[i])) {
        event.preventDefault();
        event.stopImmediatePropagation();
        inputs[i].focus();
        return;
      }
    }
  });

  // Confirmation for plain forms (htmx has hx-confirm for its own requests).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); return; }
    // A double click must not create two drafts: the second submit of a plain form is
    // dropped until the page changes (htmx forms guard themselves with hx-disabled-elt).
    if (form.hasAttribute("hx-post") || form.hasAttribute("data-allow-resubmit")) return;
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    setTimeout(function () { delete form.dataset.submitting; }, 8000);
  });
  // Coming back with the Back button restores the page from cache: allow submitting again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
    });
  });
})();
