// The placement editor: put fields on page images, move and resize them, save each change.
// Positions are fractions of the page image (x, y from the top-left corner), so any zoom works.
// No inline code and no libraries: the page's CSP allows only scripts from this site.
(function () {
  "use strict";

  var root = document.getElementById("placement");
  if (!root) return;

  // Sizes of a new field as fractions of the page width and height.
  var DEFAULT_SIZES = {
    signature: [0.25, 0.06], initials: [0.1, 0.045], stamp: [0.2, 0.14], date: [0.18, 0.035],
    text: [0.3, 0.035], number: [0.16, 0.035], requisites: [0.4, 0.14], checkbox: [0.03, 0.021]
  };
  var COMMON_TYPES = ["date", "number"];
  var MIN_SIZE = 0.01;
  var KEY_STEP = 0.005;
  var TAP_SLOP_PX = 6;
  var KEY_SAVE_DELAY_MS = 400;

  var messages = JSON.parse(root.dataset.messages);
  var parties = JSON.parse(root.dataset.parties);
  var typeLabels = JSON.parse(root.dataset.types);
  var addUrl = root.dataset.addUrl;
  var fieldUrlBase = root.dataset.fieldUrl.replace(/\/0$/, "/");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var statusBox = document.getElementById("placement-status");
  var panel = document.getElementById("placement-panel");
  var partyById = {};
  parties.forEach(function (party) { partyById[party.id] = party; });

  var fields = [];
  var selected = null;

  // --- small helpers ----------------------------------------------------------------------

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.classList.toggle("is-error", !!isError);
  }

  function clamp(value, low, high) { return Math.min(Math.max(value, low), high); }

  function clampBox(box) {
    var w = clamp(box.w, MIN_SIZE, 1);
    var h = clamp(box.h, MIN_SIZE, 1);
    return { x: clamp(box.x, 0, 1 - w), y: clamp(box.y, 0, 1 - h), w: w, h: h };
  }

  function round(value) { return Math.round(value * 1e6) / 1e6; }

  function boxOf(field) { return { x: field.x, y: field.y, w: field.w, h: field.h }; }

  function layerFor(page) {
    return root.querySelector('.placement-layer[data-page="' + page + '"]');
  }

  function partyName(field) {
    var party = partyById[field.party_id];
    return party ? party.name : messages.common;
  }

  function describe(field) {
    return typeLabels[field.type] + " · " + partyName(field) +
      (field.label ? " · " + field.label : "");
  }

  // --- talking to the server --------------------------------------------------------------

  function send(method, url, body) {
    var options = {
      method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || messages.failed);
          error.data = data;
          throw error;
        }
        return data;
      });
    }, function () {
      throw new Error(messages.offline);
    });
  }

  // Saves of one field run one after another, so the last change always wins.
  function queue(field, task) {
    field.queue = (field.queue || Promise.resolve()).then(task, task);
    return field.queue;
  }

  function payload(field) {
    return { party_id: field.party_id, type: field.type, page: field.page, x: round(field.x),
      y: round(field.y), w: round(field.w), h: round(field.h), required: field.required,
      label: field.label };
  }

  function adopt(field, stored) {
    ["id", "party_id", "type", "page", "x", "y", "w", "h", "required", "label"]
      .forEach(function (key) { field[key] = stored[key]; });
    // The server measures the value known now (requisites, date) against the box.
    field.overflow = stored.overflow || null;
    draw(field);
    if (field === selected && !panel.hidden) showOverflow(field);
  }

  function create(field) {
    say(messages.saving);
    queue(field, function () {
      return send("POST", addUrl, payload(field)).then(function (data) {
        adopt(field, data.field);
        say(messages.saved);
      }, function (error) {
        forget(field);
        say(error.message, true);
      });
    });
  }

  function save(field, changes, previous) {
    say(messages.saving);
    queue(field, function () {
      if (!field.id) return null;  // its creation failed: nothing to change
      return send("PATCH", fieldUrlBase + field.id, changes).then(function (data) {
        adopt(field, data.field);
        say(messages.saved);
      }, function (error) {
        // The server refused (e.g. off the page): snap back to what it has stored.
        var stored = error.data && error.data.field;
        if (stored) adopt(field, stored);
        else if (previous) { Object.assign(field, previous); draw(field); }
        say(error.message, true);
      });
    });
  }

  function remove(field) {
    say(messages.saving);
    queue(field, function () {
      if (!field.id) { forget(field); return null; }
      return send("DELETE", fieldUrlBase + field.id).then(function () {
        forget(field);
        say(messages.deleted);
      }, function (error) { say(error.message, true); });
    });
  }

  // --- drawing ----------------------------------------------------------------------------

  function draw(field) {
    var party = partyById[field.party_id];
    var el = field.el;
    if (!el) {
      el = field.el = document.createElement("div");
      el.className = "placement-field";
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      // The warning comes first: in a box one line high it is what shows.
      el.innerHTML = '<span class="placement-field-warning" aria-hidden="true" hidden></span>' +
        '<span class="placement-field-label"></span>' +
        '<span class="placement-handle" aria-hidden="true"></span>';
      el.addEventListener("pointerdown", function (event) { startDrag(event, field); });
      el.addEventListener("keydown", function (event) { onKey(event, field); });
      el.addEventListener("focus", function () { select(field); });
    }
    var layer = layerFor(field.page);
    if (el.parentNode !== layer) layer.appendChild(el);
    el.className = "placement-field party-colour-" + (party ? party.colour : "common") +
      (field === selected ? " is-selected" : "") + (field.id ? "" : " is-saving") +
      (field.dragging ? " is-dragging" : "") + (field.overflow ? " is-overflowing" : "");
    el.style.left = field.x * 100 + "%";
    el.style.top = field.y * 100 + "%";
    el.style.width = field.w * 100 + "%";
    el.style.height = field.h * 100 + "%";
    var label = el.querySelector(".placement-field-label");
    label.textContent = field.label || typeLabels[field.type];
    var warning = el.querySelector(".placement-field-warning");
    warning.hidden = !field.overflow;
    warning.textContent = field.overflow ? "⚠ " + messages.overflow : "";
    if (field.overflow) warning.title = field.overflow.message;
    el.setAttribute("aria-label", describe(field) +
      (field.overflow ? " · " + field.overflow.message : ""));
    if (field.id) el.dataset.fieldId = field.id;
  }

  function forget(field) {
    if (field.el && field.el.parentNode) field.el.parentNode.removeChild(field.el);
    fields = fields.filter(function (other) { return other !== field; });
    if (selected === field) closePanel();
  }

  // --- the toolbar: whose field and which type --------------------------------------------

  function chosenParty() {
    var input = root.querySelector('input[name="placement-party"]:checked');
    return input && input.value ? Number(input.value) : null;
  }

  function chosenType() {
    var input = root.querySelector('input[name="placement-type"]:checked');
    return input ? input.value : "signature";
  }

  // Offer only the types the chosen party may have (a person has no stamp).
  function syncTypes() {
    var party = partyById[chosenParty()];
    root.querySelectorAll('input[name="placement-type"]').forEach(function (input) {
      var allowed = party ? (input.value !== "stamp" || party.may_stamp)
        : COMMON_TYPES.indexOf(input.value) >= 0;
      input.disabled = !allowed;
      if (!allowed && input.checked) {
        input.checked = false;
        var fallback = root.querySelector('input[name="placement-type"][value="' +
          (party ? "signature" : "date") + '"]');
        if (fallback) fallback.checked = true;
      }
    });
  }

  root.querySelectorAll('input[name="placement-party"]').forEach(function (input) {
    input.addEventListener("change", syncTypes);
  });

  // --- placing: a click or tap on a page (not a scroll) -----------------------------------

  function place(layer, clientX, clientY) {
    var rect = layer.getBoundingClientRect();
    var type = chosenType();
    var size = DEFAULT_SIZES[type] || [0.2, 0.04];
    var box = clampBox({
      x: (clientX - rect.left) / rect.width - size[0] / 2,
      y: (clientY - rect.top) / rect.height - size[1] / 2, w: size[0], h: size[1]
    });
    var field = Object.assign({ id: null, party_id: chosenParty(), type: type,
      page: Number(layer.dataset.page), required: type !== "checkbox", label: "" }, box);
    fields.push(field);
    draw(field);
    select(field);
    create(field);
  }

  root.querySelectorAll(".placement-layer").forEach(function (layer) {
    var start = null;
    layer.addEventListener("pointerdown", function (event) {
      if (event.target !== layer || event.button > 0) return;
      start = { id: event.pointerId, x: event.clientX, y: event.clientY };
    });
    layer.addEventListener("pointercancel", function () { start = null; });
    layer.addEventListener("pointerup", function (event) {
      if (!start || start.id !== event.pointerId || event.target !== layer) return;
      var moved = Math.abs(event.clientX - start.x) + Math.abs(event.clientY - start.y);
      start = null;
      if (moved <= TAP_SLOP_PX) place(layer, event.clientX, event.clientY);
    });
  });

  // --- moving and resizing with the mouse, a pen or a finger ------------------------------

  function startDrag(event, field) {
    if (event.button > 0) return;
    event.preventDefault();
    event.stopPropagation();
    select(field);
    field.el.focus({ preventScroll: true });
    var rect = field.el.parentNode.getBoundingClientRect();
    var drag = {
      resize: event.target.classList.contains("placement-handle"),
      startX: event.clientX, startY: event.clientY, before: boxOf(field), rect: rect
    };
    field.el.setPointerCapture(event.pointerId);
    field.dragging = true;
    draw(field);

    function onMove(move) {
      var dx = (move.clientX - drag.startX) / drag.rect.width;
      var dy = (move.clientY - drag.startY) / drag.rect.height;
      var b = drag.before;
      var box = drag.resize
        ? { x: b.x, y: b.y, w: Math.min(b.w + dx, 1 - b.x), h: Math.min(b.h + dy, 1 - b.y) }
        : { x: b.x + dx, y: b.y + dy, w: b.w, h: b.h };
      Object.assign(field, clampBox(box));
      draw(field);
    }

    function onEnd() {
      field.el.removeEventListener("pointermove", onMove);
      field.el.removeEventListener("pointerup", onEnd);
      field.el.removeEventListener("pointercancel", onEnd);
      field.dragging = false;
      draw(field);
      var now = boxOf(field);
      var changed = ["x", "y", "w", "h"].some(function (k) { return now[k] !== drag.before[k]; });
      if (changed) save(field, roundBox(now), drag.before);
    }

    field.el.addEventListener("pointermove", onMove);
    field.el.addEventListener("pointerup", onEnd);
    field.el.addEventListener("pointercancel", onEnd);
  }

  function roundBox(box) {
    return { x: round(box.x), y: round(box.y), w: round(box.w), h: round(box.h) };
  }

  // --- the keyboard: arrows move, Shift+arrows resize, Delete removes, Enter edits --------

  var ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  function onKey(event, field) {
    var arrow = ARROWS[event.key];
    if (arrow) {
      event.preventDefault();
      if (!field.keyBefore) field.keyBefore = boxOf(field);
      var box = boxOf(field);
      if (event.shiftKey) {
        box.w += arrow[0] * KEY_STEP;
        box.h += arrow[1] * KEY_STEP;
      } else {
        box.x += arrow[0] * KEY_STEP;
        box.y += arrow[1] * KEY_STEP;
      }
      Object.assign(field, clampBox(box));
      draw(field);
      // Holding an arrow key would save on every step: wait until the keys rest.
      clearTimeout(field.keyTimer);
      field.keyTimer = setTimeout(function () {
        var before = field.keyBefore;
        field.keyBefore = null;
        save(field, roundBox(boxOf(field)), before);
      }, KEY_SAVE_DELAY_MS);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      remove(field);
    } else if (event.key === "Enter") {
      event.preventDefault();
      openPanel(field);
    } else if (event.key === "Escape") {
      closePanel();
    }
  }

  // --- selection and the properties panel -------------------------------------------------

  var panelParty = document.getElementById("panel-party");
  var panelLabel = document.getElementById("panel-label");
  var panelRequired = document.getElementById("panel-required");
  var panelSummary = document.getElementById("panel-summary");
  var panelOverflow = document.getElementById("panel-overflow");

  function showOverflow(field) {
    panelOverflow.hidden = !field.overflow;
    panelOverflow.textContent = field.overflow ? field.overflow.message : "";
  }

  function select(field) {
    var previous = selected;
    selected = field;
    if (previous && previous !== field && previous.el) draw(previous);
    if (field.el) draw(field);
    if (!panel.hidden) openPanel(field, true);
  }

  function openPanel(field, keepFocus) {
    selected = field;
    panel.hidden = false;
    panelSummary.textContent = describe(field);
    showOverflow(field);
    panelLabel.value = field.label || "";
    panelRequired.checked = !!field.required;
    Array.prototype.forEach.call(panelParty.options, function (option) {
      var party = partyById[Number(option.value)];
      option.disabled = field.type === "stamp" ? !(party && party.may_stamp)
        : (!party && COMMON_TYPES.indexOf(field.type) < 0);
    });
    panelParty.value = field.party_id === null ? "" : String(field.party_id);
    if (!keepFocus) panelLabel.focus();
  }

  function closePanel() {
    panel.hidden = true;
    if (selected && selected.el) selected.el.focus({ preventScroll: true });
  }

  document.getElementById("panel-save").addEventListener("click", function () {
    if (!selected) return;
    var field = selected;
    var before = { label: field.label, required: field.required, party_id: field.party_id };
    field.label = panelLabel.value.trim();
    field.required = panelRequired.checked;
    field.party_id = panelParty.value ? Number(panelParty.value) : null;
    draw(field);
    save(field, { label: field.label, required: field.required, party_id: field.party_id },
      before);
    closePanel();
  });
  document.getElementById("panel-delete").addEventListener("click", function () {
    if (selected) remove(selected);
    panel.hidden = true;
  });
  document.getElementById("panel-close").addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });

  // --- start ------------------------------------------------------------------------------

  JSON.parse(root.dataset.fields).forEach(function (stored) {
    var field = {};
    adoptInto(field, stored);
    fields.push(field);
  });

  function adoptInto(field, stored) {
    Object.assign(field, stored);
    draw(field);
  }

  syncTypes();
  root.classList.add("is-ready");
})();
