// Passkeys (WebAuthn): <form data-passkey="register|sign-in" data-options-url="...">.
// On submit: ask the server for options (a challenge), let the browser make or use the passkey,
// put its answer (JSON, binary fields as base64url) in the form's hidden "credential" field
// and post the form as usual; the server answers with a page. No inline scripts (the CSP).
(function () {
  "use strict";

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function withBinaryIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: fromBase64url(item.id) });
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    options.excludeCredentials = withBinaryIds(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.allowCredentials = withBinaryIds(json.allowCredentials);
    return options;
  }

  function serialise(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      out.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return out;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) status.textContent = text || "";
  }

  function fetchOptions(form) {
    return fetch(form.getAttribute("data-options-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          if (body && body.redirect) window.location.assign(body.redirect);
          throw new Error((body && body.error) || response.statusText);
        }
        return body;
      });
    });
  }

  function run(form) {
    var mode = form.getAttribute("data-passkey");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form, form.getAttribute("data-unsupported"));
      return;
    }
    if (mode === "register") {
      var name = form.querySelector('input[name="name"]');
      if (name && !name.value.trim()) {
        say(form, form.getAttribute("data-name-missing"));
        name.focus();
        return;
      }
    }
    var button = form.querySelector("[data-passkey-start]");
    if (button) button.disabled = true;
    say(form, "");
    fetchOptions(form).then(function (json) {
      return mode === "register"
        ? navigator.credentials.create({ publicKey: creationOptions(json) })
        : navigator.credentials.get({ publicKey: requestOptions(json) });
    }).then(function (credential) {
      if (!credential) throw new Error("no credential");
      form.querySelector('input[name="credential"]').value = JSON.stringify(serialise(credential));
      form.submit();
    }).catch(function (error) {
      if (button) button.disabled = false;
      var message = form.getAttribute("data-failed");
      say(form, error && error.name === "NotAllowedError" ? message : (error && error.message && error.name === "Error" ? error.message : message));
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-passkey]");
    if (!form) return;
    var credential = form.querySelector('input[name="credential"]');
    if (credential && credential.value) return; // the answer is in: post it
    event.preventDefault();
    run(form);
  });
})();
