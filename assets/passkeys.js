// Passkeys: the browser's half of the WebAuthn ceremonies (the server's is
// src/accounts/passkeys.rs). Each passkey form is plain HTML with a hidden field;
// this script asks the device for a key, puts the answer in that field as JSON,
// and sends the form. The forms stay hidden where a browser has no passkeys.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  // WebAuthn speaks ArrayBuffers; the server sends and reads base64url text.
  function bytes(text) {
    var plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(plain.length);
    for (var i = 0; i < plain.length; i++) { out[i] = plain.charCodeAt(i); }
    return out.buffer;
  }
  function text(buffer) {
    var plain = "";
    var all = new Uint8Array(buffer);
    for (var i = 0; i < all.length; i++) { plain += String.fromCharCode(all[i]); }
    return btoa(plain).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: bytes(c.id) }); });
  }

  function creationOptions(answer) {
    var key = answer.publicKey;
    key.challenge = bytes(key.challenge);
    key.user.id = bytes(key.user.id);
    key.excludeCredentials = withIds(key.excludeCredentials);
    return { publicKey: key };
  }
  function requestOptions(answer) {
    var key = answer.publicKey;
    key.challenge = bytes(key.challenge);
    key.allowCredentials = withIds(key.allowCredentials);
    return { publicKey: key };
  }

  // The credential as JSON, its `fields` of the response in base64url (Hearth reads
  // them as webauthn-rs's RegisterPublicKeyCredential or PublicKeyCredential).
  function answer(credential, fields) {
    var r = credential.response;
    var response = {};
    fields.forEach(function (name) { response[name] = r[name] ? text(r[name]) : null; });
    if (r.getTransports) { response.transports = r.getTransports(); }
    return JSON.stringify({
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults(),
    });
  }
  function created(credential) {
    return answer(credential, ["attestationObject", "clientDataJSON"]);
  }
  function asserted(credential) {
    return answer(credential, ["authenticatorData", "clientDataJSON", "signature", "userHandle"]);
  }

  function post(url, signal) {
    return fetch(url, { method: "POST", headers: { Accept: "application/json" }, signal: signal })
      .then(function (answer) {
        if (!answer.ok) {
          throw new Error("Hearth did not start it (" + answer.status + "). Reload the page and try again.");
        }
        return answer.json();
      });
  }

  function say(form, words) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) { status.textContent = words; }
  }

  // A refusal the person chose (closing the browser's dialog) needs no alarm.
  function problem(err) {
    if (err && err.name === "NotAllowedError") { return "No passkey was used."; }
    if (err && err.name === "InvalidStateError") { return "This device already keeps a passkey for your account."; }
    return "The passkey did not work: " + (err && err.message ? err.message : err);
  }

  // Sent once: the button stays off, so a second click cannot ask for a new
  // challenge (replacing the one this answer is for) while the answer is on its way.
  function send(form, field, json) {
    form.querySelector("input[name=" + field + "]").value = json;
    form.setAttribute("data-sent", "");
    HTMLFormElement.prototype.submit.call(form);
  }

  // The sign-in page: passkeys in the email field's suggestions where the
  // browser offers that (conditional mediation), and the button everywhere.
  var pending = null;
  function signIn(form, conditional) {
    if (pending) { pending.abort(); }
    var controller = new AbortController();
    pending = controller;
    return post("/passkeys/challenge", controller.signal).then(function (answer) {
      var options = requestOptions(answer);
      options.signal = controller.signal;
      if (conditional) { options.mediation = "conditional"; }
      return navigator.credentials.get(options);
    }).then(function (credential) {
      if (credential) { send(form, "credential", asserted(credential)); }
    });
  }

  function confirm(form) {
    return post("/passkeys/challenge").then(function (answer) {
      return navigator.credentials.get(requestOptions(answer));
    }).then(function (credential) {
      if (credential) { send(form, "reauth_passkey", asserted(credential)); }
    });
  }

  function add(form) {
    return post("/dashboard/passkeys/options").then(function (answer) {
      return navigator.credentials.create(creationOptions(answer));
    }).then(function (credential) {
      if (credential) { send(form, "credential", created(credential)); }
    });
  }

  var ceremonies = { "sign-in": signIn, confirm: confirm, add: add };

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var ceremony = form && ceremonies[form.getAttribute("data-passkey")];
    if (!ceremony) { return; }
    e.preventDefault();
    if (form.hasAttribute("data-sent")) { return; }
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    say(form, "Waiting for your passkey…");
    ceremony(form).catch(function (err) {
      if (err && err.name === "AbortError") { return; }
      say(form, problem(err));
    }).finally(function () {
      if (button && !form.hasAttribute("data-sent")) { button.disabled = false; }
    });
  });

  function ready() {
    document.querySelectorAll("form[data-passkey]").forEach(function (form) {
      form.hidden = false;
    });
    var signInForm = document.querySelector("form[data-passkey=sign-in]");
    if (signInForm && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) {
          signIn(signInForm, true).catch(function () { /* the button still works */ });
        }
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  // Pages that htmx swaps in (hx-boost) get the same.
  document.addEventListener("htmx:afterSettle", ready);
})();
