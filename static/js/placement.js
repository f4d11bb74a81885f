// The placement editor: put fields on page images, select, move, resize, duplicate and delete
// them with a mouse, a finger or the keyboard, undo, zoom; each change is saved at once and
// the server checks it. Positions are fractions of the page image (x, y from the top-left
// corner), so zooming never changes them.
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
  var SNAP_PX = 6;
  var DUPLICATE_OFFSET = 0.02;
  var KEY_SAVE_DELAY_MS = 400;
  var HISTORY_LIMIT = 50;
  var ZOOM_STEP = 1.25;
  var ZOOM_MIN = 0.5;
  var ZOOM_MAX = 4;

  var messages = JSON.parse(root.dataset.messages);
  var parties = JSON.parse(root.dataset.parties);
  var typeLabels = JSON.parse(root.dataset.types);
  var addUrl = root.dataset.addUrl;
  var fieldUrlBase = root.dataset.fieldUrl.replace(/\/0$/, "/");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var statusBox = document.getElementById("placement-status");
  var panel = document.getElementById("placement-panel");
  var pagesBox = root.querySelector(".placement-pages");
  var undoButton = document.getElementById("placement-undo");
  var icons = document.getElementById("placement-icons").content;
  var partyById = {};
  parties.forEach(function (party) { partyById[party.id] = party; });

  var fields = [];
  var selected = null;
  var history = [];

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

  function roundBox(box) {
    return { x: round(box.x), y: round(box.y), w: round(box.w), h: round(box.h) };
  }

  function propsOf(field) {
    return { label: field.label, required: field.required, party_id: field.party_id };
  }

  function layerFor(page) {
    return root.querySelector('.placement-layer[data-page="' + page + '"]');
  }

  function iconFor(type) {
    var icon = icons.querySelector('svg[data-type="' + type + '"]');
    return icon ? icon.cloneNode(true) : document.createElement("span");
  }

  function partyName(field) {
    var party = partyById[field.party_id];
    return party ? party.name : messages.common;
  }

  function nameOf(field) { return field.label || typeLabels[field.type]; }

  function describe(field) {
    return typeLabels[field.type] + " · " + partyName(field) +
      (field.label ? " · " + field.label : "");
  }

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
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
    if (field === selected && !panel.hidden) fillPanel(field);
  }

  function create(field, entry, done) {
    say(messages.saving);
    queue(field, function () {
      return send("POST", addUrl, payload(field)).then(function (data) {
        adopt(field, data.field);
        say(done || messages.saved);
      }, function (error) {
        forget(field);
        dropEntry(entry);
        say(error.message, true);
      });
    });
  }

  function save(field, changes, previous, entry, done) {
    say(messages.saving);
    queue(field, function () {
      if (!field.id) return null;  // its creation failed: nothing to change
      return send("PATCH", fieldUrlBase + field.id, changes).then(function (data) {
        adopt(field, data.field);
        say(done || messages.saved);
      }, function (error) {
        // The server refused (e.g. off the page): snap back to what it has stored.
        var stored = error.data && error.data.field;
        if (stored) adopt(field, stored);
        else if (previous) { Object.assign(field, previous); draw(field); }
        dropEntry(entry);
        say(error.message, true);
      });
    });
  }

  function remove(field, entry, done) {
    say(messages.saving);
    if (selected === field) deselect();
    queue(field, function () {
      if (!field.id) { forget(field); return null; }
      return send("DELETE", fieldUrlBase + field.id).then(function () {
        forget(field);
        field.id = null;
        say(done || messages.deleted);
      }, function (error) {
        dropEntry(entry);
        say(error.message, true);
      });
    });
  }

  // --- undo: the last changes, each undone by the same saves the server checks -----------

  function remember(entry) {
    history.push(entry);
    if (history.length > HISTORY_LIMIT) history.shift();
    undoButton.disabled = false;
    return entry;
  }

  function dropEntry(entry) {
    history = history.filter(function (other) { return other !== entry; });
    undoButton.disabled = !history.length;
  }

  function undo() {
    flushKeys();
    var entry = history.pop();
    undoButton.disabled = !history.length;
    if (!entry) return;
    var field = entry.field;
    if (entry.kind === "add") {
      remove(field, null, messages.undone);
    } else if (entry.kind === "delete") {
      // The same object comes back (under a new id), so older entries still find it; after
      // its deletion has finished.
      queue(field, function () {
        if (fields.indexOf(field) < 0) fields.push(field);
        draw(field);
      });
      create(field, null, messages.undone);
    } else if (fields.indexOf(field) < 0) {
      undo();  // its field is gone (its creation failed): undo the change before
    } else {
      var previous = entry.kind === "box" ? boxOf(field) : propsOf(field);
      Object.assign(field, entry.before);
      draw(field);
      if (field === selected && !panel.hidden) fillPanel(field);
      var changes = entry.kind === "box" ? roundBox(entry.before) : entry.before;
      save(field, changes, previous, null, messages.undone);
    }
  }

  undoButton.addEventListener("click", undo);

  // --- drawing ----------------------------------------------------------------------------

  function draw(field) {
    var party = partyById[field.party_id];
    var el = field.el;
    if (!el) {
      el = field.el = document.createElement("div");
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      // The warning comes first: in a box one line high it is what shows.
      el.innerHTML = '<span class="placement-field-warning" aria-hidden="true" hidden></span>' +
        '<span class="placement-field-label"><span class="placement-field-text"></span></span>' +
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
    if (label.dataset.type !== field.type) {
      label.dataset.type = field.type;
      label.insertBefore(iconFor(field.type), label.firstChild);
      if (label.children.length > 2) label.removeChild(label.children[1]);
    }
    var warning = el.querySelector(".placement-field-warning");
    warning.hidden = !field.overflow;
    warning.textContent = field.overflow ? "⚠ " + messages.overflow : "";
    if (field.overflow) warning.title = field.overflow.message;
    el.title = describe(field);
    el.setAttribute("aria-label", describe(field) +
      (field.overflow ? " · " + field.overflow.message : ""));
    el.setAttribute("aria-pressed", field === selected ? "true" : "false");
    if (field.id) el.dataset.fieldId = field.id;
    else delete el.dataset.fieldId;
    fitLabel(field);
  }

  // A label never shows a cut word: the field's own label on as many whole lines as the box
  // holds (at this zoom), else its type's name, else the name without the icon, else the
  // icon alone; the title and the panel always have the whole label.
  var lineHeight = 0;
  function fitLabel(field) {
    var el = field.el;
    if (!el.isConnected) return;
    var key = el.clientWidth + "x" + el.clientHeight + ":" + !!field.overflow + nameOf(field);
    if (field.fitted === key) return;
    field.fitted = key;
    var label = el.querySelector(".placement-field-label");
    var text = label.lastChild;
    if (!lineHeight) lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 13;
    text.style.webkitLineClamp = String(Math.max(1, Math.floor((label.clientHeight - 4) / lineHeight)));
    var type = typeLabels[field.type];
    var tries = [[nameOf(field), ""], [type, ""], [type, " is-text-only"], ["", " is-icon-only"]];
    for (var i = 0; i < tries.length; i += 1) {
      text.textContent = tries[i][0];
      label.className = "placement-field-label" + tries[i][1];
      if (text.scrollWidth <= text.clientWidth + 1) break;
    }
  }

  function forget(field) {
    if (field.el && field.el.parentNode) field.el.parentNode.removeChild(field.el);
    fields = fields.filter(function (other) { return other !== field; });
    if (selected === field) deselect();
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

  // --- placing: a click or tap on a page (not a scroll); with a field selected, the same
  // click lets go of it instead, so a stray tap never drops a field by surprise -----------

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
    add(field);
  }

  function add(field, done) {
    fields.push(field);
    draw(field);
    select(field);
    openPanel(field);
    create(field, remember({ kind: "add", field: field }), done);
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
      if (moved > TAP_SLOP_PX) return;
      if (selected) deselect();
      else place(layer, event.clientX, event.clientY);
    });
  });

  // --- moving and resizing with the mouse, a pen or a finger ------------------------------

  // Pull an edge onto the page's edge or another field's edge when it comes within a few
  // pixels, so rows of fields line up; Alt places freely.
  function snapEdges(box, field, rect, resize) {
    var xs = [0, 1], ys = [0, 1];
    fields.forEach(function (other) {
      if (other === field || other.page !== field.page) return;
      xs.push(other.x, other.x + other.w);
      ys.push(other.y, other.y + other.h);
    });
    function nearest(edges, targets, limit) {
      var best = null;
      edges.forEach(function (edge) {
        targets.forEach(function (target) {
          var delta = target - edge;
          if (Math.abs(delta) <= limit && (best === null || Math.abs(delta) < Math.abs(best))) {
            best = delta;
          }
        });
      });
      return best || 0;
    }
    var limitX = SNAP_PX / rect.width, limitY = SNAP_PX / rect.height;
    if (resize) {
      box.w += nearest([box.x + box.w], xs, limitX);
      box.h += nearest([box.y + box.h], ys, limitY);
    } else {
      box.x += nearest([box.x, box.x + box.w], xs, limitX);
      box.y += nearest([box.y, box.y + box.h], ys, limitY);
    }
    return box;
  }

  function startDrag(event, field) {
    if (event.button > 0) return;
    event.preventDefault();
    event.stopPropagation();
    flushKeys();
    select(field);
    field.el.focus({ preventScroll: true });
    var drag = {
      resize: event.target.classList.contains("placement-handle"), moving: false,
      startX: event.clientX, startY: event.clientY, before: boxOf(field),
      rect: field.el.parentNode.getBoundingClientRect()
    };
    field.el.setPointerCapture(event.pointerId);

    function onMove(move) {
      var dxPx = move.clientX - drag.startX, dyPx = move.clientY - drag.startY;
      if (!drag.moving) {
        // A tap that wobbles a little is still a tap, not a move.
        if (Math.abs(dxPx) + Math.abs(dyPx) <= TAP_SLOP_PX) return;
        drag.moving = field.dragging = true;
      }
      var dx = dxPx / drag.rect.width, dy = dyPx / drag.rect.height;
      var b = drag.before;
      var box = drag.resize
        ? { x: b.x, y: b.y, w: Math.min(b.w + dx, 1 - b.x), h: Math.min(b.h + dy, 1 - b.y) }
        : { x: b.x + dx, y: b.y + dy, w: b.w, h: b.h };
      if (!move.altKey) box = snapEdges(box, field, drag.rect, drag.resize);
      Object.assign(field, clampBox(box));
      draw(field);
    }

    function onEnd(end) {
      field.el.removeEventListener("pointermove", onMove);
      field.el.removeEventListener("pointerup", onEnd);
      field.el.removeEventListener("pointercancel", onEnd);
      field.dragging = false;
      draw(field);
      if (!drag.moving) {
        if (end.type === "pointerup") openPanel(field);
        return;
      }
      var now = boxOf(field);
      var changed = ["x", "y", "w", "h"].some(function (k) { return now[k] !== drag.before[k]; });
      if (changed) {
        save(field, roundBox(now), drag.before,
          remember({ kind: "box", field: field, before: drag.before }));
      }
    }

    field.el.addEventListener("pointermove", onMove);
    field.el.addEventListener("pointerup", onEnd);
    field.el.addEventListener("pointercancel", onEnd);
  }

  // --- the keyboard: arrows move, Shift+arrows resize, Delete removes, Enter edits --------

  var ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  function saveKeyMove(field) {
    clearTimeout(field.keyTimer);
    field.keyTimer = null;
    var before = field.keyBefore;
    field.keyBefore = null;
    if (!before) return;
    save(field, roundBox(boxOf(field)), before,
      remember({ kind: "box", field: field, before: before }));
  }

  // A move still waiting for the keys to rest is saved now (before an undo or a drag).
  function flushKeys() {
    fields.forEach(function (field) { if (field.keyTimer) saveKeyMove(field); });
  }

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
      field.keyTimer = setTimeout(function () { saveKeyMove(field); }, KEY_SAVE_DELAY_MS);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      deleteField(field);
    } else if (event.key === "Enter") {
      event.preventDefault();
      openPanel(field, true);
    } else if (event.key === "Escape") {
      event.stopPropagation();
      deselect();
    }
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey &&
        event.key.toLowerCase() === "z" && !isTyping(event.target)) {
      event.preventDefault();
      undo();
    } else if (event.key === "Escape" && selected && !isTyping(event.target)) {
      deselect();
    }
  });

  // --- delete and duplicate ---------------------------------------------------------------

  function deleteField(field) {
    flushKeys();
    remove(field, remember({ kind: "delete", field: field }));
  }

  function duplicate(field) {
    flushKeys();
    function shifted(start, size) {
      return start + size + DUPLICATE_OFFSET <= 1 ? start + DUPLICATE_OFFSET
        : start - DUPLICATE_OFFSET;
    }
    var copy = Object.assign({ id: null, party_id: field.party_id, type: field.type,
      page: field.page, required: field.required, label: field.label },
    clampBox({ x: shifted(field.x, field.w), y: shifted(field.y, field.h), w: field.w, h: field.h }));
    add(copy, messages.duplicated);
  }

  // --- selection and the properties panel -------------------------------------------------

  var panelParty = document.getElementById("panel-party");
  var panelLabel = document.getElementById("panel-label");
  var panelRequired = document.getElementById("panel-required");
  var panelIcon = document.getElementById("panel-icon");
  var panelName = document.getElementById("panel-name");
  var panelSummary = document.getElementById("panel-summary");
  var panelOverflow = document.getElementById("panel-overflow");

  function select(field) {
    if (selected === field) return;
    var previous = selected;
    selected = field;
    if (previous && previous.el) draw(previous);
    if (field.el) draw(field);
    if (!panel.hidden) fillPanel(field);
  }

  function deselect() {
    var previous = selected;
    selected = null;
    panel.hidden = true;
    root.classList.remove("has-panel");
    if (previous && previous.el) draw(previous);
  }

  function fillPanel(field) {
    panelIcon.replaceChildren(iconFor(field.type));
    panelName.textContent = nameOf(field);
    panelSummary.textContent = typeLabels[field.type] + " · " + partyName(field);
    panelOverflow.hidden = !field.overflow;
    panelOverflow.textContent = field.overflow ? field.overflow.message : "";
    panelLabel.value = field.label || "";
    panelRequired.checked = !!field.required;
    Array.prototype.forEach.call(panelParty.options, function (option) {
      var party = partyById[Number(option.value)];
      option.disabled = field.type === "stamp" ? !(party && party.may_stamp)
        : (!party && COMMON_TYPES.indexOf(field.type) < 0);
    });
    panelParty.value = field.party_id === null ? "" : String(field.party_id);
  }

  // A click or tap leaves the focus on the field (arrows keep working, no phone keyboard
  // pops up); Enter, the keyboard's way in, moves it to the label.
  function openPanel(field, focusLabel) {
    select(field);
    fillPanel(field);
    panel.hidden = false;
    root.classList.add("has-panel");
    if (focusLabel) panelLabel.focus();
    else revealAbovePanel(field);
  }

  // On a narrow screen the panel is a sheet over the bottom of the screen: keep the field
  // it talks about in sight above it.
  function revealAbovePanel(field) {
    if (getComputedStyle(panel).position !== "fixed" || !field.el) return;
    var box = field.el.getBoundingClientRect();
    var sheetTop = panel.getBoundingClientRect().top;
    // The margin leaves room for the resize knob on the corner.
    if (box.bottom > sheetTop - 16) window.scrollBy(0, box.bottom - sheetTop + 28);
  }

  function closePanel() {
    panel.hidden = true;
    root.classList.remove("has-panel");
    if (selected && selected.el) selected.el.focus({ preventScroll: true });
  }

  function applyPanel() {
    if (!selected) return;
    var field = selected;
    var before = propsOf(field);
    field.label = panelLabel.value.trim();
    field.required = panelRequired.checked;
    field.party_id = panelParty.value ? Number(panelParty.value) : null;
    var now = propsOf(field);
    var changed = Object.keys(now).some(function (key) { return now[key] !== before[key]; });
    draw(field);
    fillPanel(field);
    if (changed) save(field, now, before, remember({ kind: "props", field: field, before: before }));
  }

  document.getElementById("panel-save").addEventListener("click", applyPanel);
  panelLabel.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); applyPanel(); }
  });
  document.getElementById("panel-duplicate").addEventListener("click", function () {
    if (selected) duplicate(selected);
  });
  document.getElementById("panel-delete").addEventListener("click", function () {
    if (selected) deleteField(selected);
  });
  document.getElementById("panel-close").addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.stopPropagation(); closePanel(); }
  });

  // --- zoom: the pages' width, as a share of the width they have to fit -------------------

  var zoom = null;  // null: the page's own layout
  var zoomLevel = document.getElementById("zoom-level");
  var pageBoxes = root.querySelectorAll(".placement-page");

  function fitWidth() { return pagesBox.clientWidth; }

  function currentZoom() {
    return zoom === null ? pageBoxes[0].offsetWidth / fitWidth() : zoom;
  }

  function showZoom() {
    if (pageBoxes.length) zoomLevel.textContent = Math.round(currentZoom() * 100) + "%";
  }

  function applyZoom(next) {
    if (!pageBoxes.length) return;
    var top = pagesBox.getBoundingClientRect().top + window.scrollY;
    var share = (window.scrollY - top) / pagesBox.scrollHeight;
    zoom = clamp(next, ZOOM_MIN, ZOOM_MAX);
    var width = Math.round(fitWidth() * zoom);
    pageBoxes.forEach(function (page) {
      page.style.width = width + "px";
      page.style.maxWidth = "none";
      page.querySelector("img").sizes = width + "px";  // a sharper image when zoomed in
    });
    root.classList.toggle("is-zoomed", zoom > 1);
    fields.forEach(fitLabel);
    showZoom();
    if (selected && selected.el) {
      selected.el.scrollIntoView({ block: "center", inline: "center" });
      if (!panel.hidden) revealAbovePanel(selected);
    } else if (share > 0) {
      window.scrollTo(window.scrollX, top + share * pagesBox.scrollHeight);
    }
  }

  document.getElementById("zoom-in").addEventListener("click", function () {
    applyZoom(currentZoom() * ZOOM_STEP);
  });
  document.getElementById("zoom-out").addEventListener("click", function () {
    applyZoom(currentZoom() / ZOOM_STEP);
  });
  document.getElementById("zoom-fit").addEventListener("click", function () { applyZoom(1); });
  window.addEventListener("resize", function () {
    if (zoom !== null) applyZoom(zoom);
    else { fields.forEach(fitLabel); showZoom(); }
  });

  // --- start ------------------------------------------------------------------------------

  JSON.parse(root.dataset.fields).forEach(function (stored) {
    var field = Object.assign({}, stored);
    fields.push(field);
    draw(field);
  });

  syncTypes();
  showZoom();
  // Images without a known size change the layout when they arrive.
  root.querySelectorAll(".placement-sheet img").forEach(function (img) {
    if (!img.complete) img.addEventListener("load", function () { fields.forEach(fitLabel); });
  });
  root.classList.add("is-ready");
})();
