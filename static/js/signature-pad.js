// The signature pad: draw with a finger, a pen or the mouse on a <canvas class="signature-pad">.
// After each stroke the drawing goes into the form's hidden "drawing" field as a PNG data URL
// (transparent background), so saving the field is an ordinary form post. No inline code:
// the page's CSP allows only scripts from this site. Pads arriving in htmx swaps are set up too.
(function () {
  "use strict";

  var LINE_WIDTH = 2.6; // CSS pixels
  var INK = "#16226e";

  function setUp(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var form = canvas.closest("form");
    var output = form && form.querySelector("input[name=drawing]");
    var context = canvas.getContext("2d");
    var drawing = false;
    var hasInk = false;
    var last = null;

    // The backing store follows the displayed size (sharp on high-density screens). Resizing
    // clears a canvas, so it happens only while the pad is still empty.
    function fit() {
      if (!canvas.isConnected) return;
      var rect = canvas.getBoundingClientRect();
      if (!rect.width || !rect.height || hasInk) return;
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = LINE_WIDTH;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = INK;
      context.fillStyle = INK;
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    function store() {
      if (output) output.value = hasInk ? canvas.toDataURL("image/png") : "";
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) return;
      fit();
      drawing = true;
      last = point(event);
      canvas.setPointerCapture(event.pointerId);
      // A tap leaves a dot, as a pen would.
      context.beginPath();
      context.arc(last.x, last.y, LINE_WIDTH / 2, 0, Math.PI * 2);
      context.fill();
      hasInk = true;
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      if (!events.length) events = [event];
      context.beginPath();
      context.moveTo(last.x, last.y);
      events.forEach(function (each) {
        var next = point(each);
        context.lineTo(next.x, next.y);
        last = next;
      });
      context.stroke();
      event.preventDefault();
    });
    function finish(event) {
      if (!drawing) return;
      drawing = false;
      if (canvas.hasPointerCapture && canvas.hasPointerCapture(event.pointerId)) {
        canvas.releasePointerCapture(event.pointerId);
      }
      store();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    var clear = form && form.querySelector("[data-pad-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        hasInk = false;
        context.save();
        context.setTransform(1, 0, 0, 1, 0, 0);
        context.clearRect(0, 0, canvas.width, canvas.height);
        context.restore();
        fit();
        store();
      });
    }
    // The pad may be hidden until "Draw" is chosen: size it when it shows.
    if (form) {
      form.addEventListener("change", function (event) {
        if (event.target.name === "method") fit();
      });
    }
    window.addEventListener("resize", fit);
    fit();
  }

  function setUpWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("canvas.signature-pad")) setUp(root);
    root.querySelectorAll("canvas.signature-pad").forEach(setUp);
  }

  document.addEventListener("htmx:load", function (event) { setUpWithin(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUpWithin(document); });
  } else {
    setUpWithin(document);
  }
})();
