// Hearth's own small script: comfort on top of htmx, never required.
// Without it every page still works; with it the chat scrolls, sends on Enter,
// shows local times and says when it is reconnecting.
(function () {
  "use strict";

  function messages() { return document.getElementById("messages"); }

  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        var clock = { hour: "2-digit", minute: "2-digit" };
        // A search result may be from any day: it says which.
        el.textContent = el.hasAttribute("data-with-date")
          ? when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" })
          : when.toLocaleTimeString([], clock);
        el.title = when.toLocaleString();
      }
    });
  }

  function status(text) {
    var el = document.getElementById("connection-status");
    if (el && !el.classList.contains("alert")) { el.textContent = text; }
  }

  // On phones the rooms are one row that scrolls sideways: keep the room on screen
  // in view (the server re-sends the row on every reconnect).
  function showCurrentRoom() {
    var bar = document.getElementById("sidebar");
    var current = bar && bar.querySelector('[aria-current="page"]');
    if (!current || bar.scrollWidth <= bar.clientWidth) { return; }
    var outer = bar.getBoundingClientRect();
    var inner = current.getBoundingClientRect();
    if (inner.left < outer.left || inner.right > outer.right) {
      bar.scrollLeft += inner.left - outer.left - 8;
    }
  }

  window.addEventListener("resize", showCurrentRoom);

  // A reader at the newest message stays there when the window changes size (a
  // phone turned, its keyboard opened), rather than left part-way up the chat.
  var atEnd = false;
  document.addEventListener("scroll", function (e) {
    if (e.target.id === "messages") { atEnd = nearBottom(e.target); }
  }, true);
  window.addEventListener("resize", function () {
    var list = messages();
    if (list && atEnd) { list.scrollTop = list.scrollHeight; }
  });
  // Search results swapped in as one types carry times too.
  document.addEventListener("htmx:load", function (e) {
    if (e.detail.elt.id === "results") { localTimes(e.detail.elt); }
  });

  function pageReady() {
    localTimes(document);
    showCurrentRoom();
    var list = messages();
    if (list) {
      var divider = document.getElementById("new-messages");
      if (divider) { divider.scrollIntoView({ block: "center" }); }
      else { list.scrollTop = list.scrollHeight; }
      atEnd = nearBottom(list);
    }
  }

  document.addEventListener("DOMContentLoaded", pageReady);

  // Boosted forms (hx-boost): the answer replaces the page even when it is a form
  // shown again with its problems (422) or an error page, as it would without htmx.
  // Likewise a message's edit form or reaction picker, answered with itself and
  // the problem (422, 409) or a request to slow down (429); nothing else (a
  // refused deletion must not take the message off the page).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    var form = e.detail.target && e.detail.target.matches &&
      e.detail.target.matches("form.editing, form.picker");
    if ((e.detail.boosted && status >= 400) || (form && [409, 422, 429].indexOf(status) >= 0)) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // After a boosted swap the page is new but the document is not: set it up as on
  // load, and put the focus where a reader needs it, on the first field with a
  // problem (its message is read with it) or else on the alert or the heading.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail.boosted) { return; }
    pageReady();
    var focus = document.querySelector('main [aria-invalid="true"]');
    if (!focus) {
      focus = document.querySelector("main [role=alert]") || document.querySelector("main h1");
      if (focus) { focus.setAttribute("tabindex", "-1"); }
    }
    if (focus) { focus.focus(); }
  });

  // Stay at the newest message when one arrives, unless the reader scrolled up.
  var pinned = true;
  document.addEventListener("htmx:wsBeforeMessage", function (e) {
    var list = messages();
    pinned = !list || nearBottom(list);
    countUnseen(e.detail.message);
  });

  // While the tab is hidden, new messages from others are counted in its title and
  // its icon shows a dot; looking at the tab again clears both.
  var unseen = 0;
  var titleBefore = null;
  function countUnseen(frame) {
    var chat = document.getElementById("chat");
    if (!document.hidden || !chat || typeof frame !== "string") { return; }
    var parsed = document.createElement("template");
    parsed.innerHTML = frame;
    parsed.content.querySelectorAll("article.message").forEach(function (m) {
      // New (not a change to one on the page) and not one's own.
      if (!document.getElementById(m.id) && m.dataset.author !== chat.dataset.me) { unseen += 1; }
    });
    showUnseen();
  }
  function showUnseen() {
    var icon = document.getElementById("favicon");
    if (unseen > 0 && titleBefore === null) { titleBefore = document.title; }
    if (titleBefore !== null) {
      document.title = unseen > 0 ? "(" + unseen + ") " + titleBefore : titleBefore;
    }
    if (icon) { icon.href = unseen > 0 ? icon.dataset.unread : icon.dataset.read; }
    if (unseen === 0) { titleBefore = null; }
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && unseen > 0) { unseen = 0; showUnseen(); }
  });
  // A message right after another of its author's within five minutes sits under
  // its name (the server marks it so on the page; messages then arrive, change and
  // go, so it is worked out again after each).
  var SAME_TURN = 300;
  function regroup(list) {
    var previous = null;
    list.querySelectorAll("article.message, .divider").forEach(function (el) {
      if (el.tagName === "ARTICLE") {
        var joined = previous !== null && previous.dataset.author === el.dataset.author &&
          Number(el.dataset.at) - Number(previous.dataset.at) < SAME_TURN &&
          Number(el.dataset.at) >= Number(previous.dataset.at);
        el.classList.toggle("continued", joined);
        previous = el;
      } else {
        previous = null;
      }
    });
  }

  document.addEventListener("htmx:afterSettle", function () {
    var list = messages();
    if (!list) { return; }
    applyPending();
    regroup(list);
    localTimes(list);
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    var list = messages();
    if (!list) { return; }
    regroup(list);
    localTimes(list);
    if (pinned) { list.scrollTop = list.scrollHeight; }
  });

  // The server replaces the composer after a send (emptied, or with a problem).
  // What was typed after that send, before the reply came, is kept, and so is
  // the place where one was typing.
  var composing = false;
  var sentBody = null;
  var typedAfter = null;
  document.addEventListener("focusin", function (e) { composing = e.target.id === "composer-body"; });
  document.addEventListener("htmx:wsConfigSend", function (e) {
    var sent = e.detail.parameters;
    if (sent && sent.kind === "send") { sentBody = String(sent.body); }
  });
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "composer") { return; }
    var box = document.getElementById("composer-body");
    var now = box ? box.value : "";
    if (sentBody !== null && now.lastIndexOf(sentBody, 0) === 0) { now = now.slice(sentBody.length); }
    typedAfter = now.trim() === "" ? null : now;
  });
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "sidebar") { showCurrentRoom(); }
    if (e.detail.target && e.detail.target.id === "composer") {
      var box = document.getElementById("composer-body");
      // Emptied after a send, or showing the refused text: what came after follows.
      if (box && typedAfter !== null) { box.value += typedAfter; }
      typedAfter = null;
      if (box && composing) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
    }
  });

  // Mentions: typing @ and the start of a name in the composer offers the room's
  // members (fetched once, on the first @); Up and Down choose, Enter or Tab
  // picks, Escape closes. Without this, typing @Full Name works the same.
  var members = null;
  var offered = null; // { query, people, chosen }

  function mentionQuery(box) {
    var before = box.value.slice(0, box.selectionStart);
    var found = /(^|[^\w@])@([^@\n]{0,40})$/.exec(before);
    return found ? { start: before.length - found[2].length - 1, text: found[2].toLowerCase() } : null;
  }

  function closeOffer() {
    var list = document.getElementById("mention-options");
    if (list) { list.remove(); }
    if (offered) { status(""); }
    offered = null;
  }

  function showOffer(box, query) {
    var people = members.filter(function (p) {
      var name = p.name.toLowerCase();
      return name.indexOf(query.text) === 0 || name.indexOf(" " + query.text) >= 0;
    }).slice(0, 8);
    closeOffer();
    if (!people.length) { return; }
    offered = { query: query, people: people, chosen: 0 };
    var list = document.createElement("ul");
    list.id = "mention-options";
    list.className = "mention-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People to mention");
    people.forEach(function (p, i) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.textContent = p.name;
      item.addEventListener("mousedown", function (e) { e.preventDefault(); pickOffer(box, i); });
      list.appendChild(item);
    });
    box.form.appendChild(list);
    markChosen();
  }

  function markChosen() {
    var list = document.getElementById("mention-options");
    if (!list || !offered) { return; }
    Array.prototype.forEach.call(list.children, function (item, i) {
      item.setAttribute("aria-selected", i === offered.chosen ? "true" : "false");
    });
    status(offered.people[offered.chosen].name + ", " + (offered.chosen + 1) + " of " +
      offered.people.length + ": Enter to mention");
  }

  function pickOffer(box, i) {
    var q = offered.query;
    var name = offered.people[i].name;
    var after = box.value.slice(box.selectionStart);
    box.value = box.value.slice(0, q.start) + "@" + name + " " + after;
    var caret = q.start + name.length + 2;
    box.setSelectionRange(caret, caret);
    closeOffer();
    box.focus();
  }

  document.addEventListener("input", function (e) {
    var box = e.target;
    if (box.id !== "composer-body") { return; }
    var query = mentionQuery(box);
    if (!query) { closeOffer(); return; }
    if (members === null) {
      members = [];
      var url = box.form.getAttribute("action").replace(/messages$/, "members");
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; })
        .then(function (list) {
          members = list;
          var again = mentionQuery(box);
          if (again) { showOffer(box, again); }
        });
      return;
    }
    showOffer(box, query);
  });

  document.addEventListener("keydown", function (e) {
    if (!offered || e.target.id !== "composer-body") { return; }
    var n = offered.people.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      offered.chosen = (offered.chosen + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      markChosen();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      e.stopImmediatePropagation(); // not also sent
      pickOffer(e.target, offered.chosen);
    } else if (e.key === "Escape") {
      closeOffer();
    }
  });

  // Enter sends (or saves an edit), Shift+Enter starts a new line; Escape leaves
  // an edit as it was.
  document.addEventListener("keydown", function (e) {
    var editing = e.target.closest && e.target.closest("form.editing");
    if (editing && e.key === "Escape") {
      var cancel = editing.querySelector("a[hx-get]");
      if (cancel) { e.preventDefault(); cancel.click(); }
      return;
    }
    if ((e.target.id === "composer-body" || editing) && e.key === "Enter" && !e.shiftKey &&
        !e.isComposing && !e.target.readOnly) {
      e.preventDefault();
      if (e.target.value.trim() !== "" || withFiles(e.target.form)) { e.target.form.requestSubmit(); }
    }
  });

  // A change to a message pushed over the socket (an edit, a deletion, a reaction)
  // names the message by id. When this page does not show it, htmx would report an
  // error; instead the change is taken out. If the message is older than the page
  // shows, the change is kept for when "Load older messages" brings it (whose copy
  // may have been read before the change); while the message is being edited here,
  // only a deletion is applied (to the form), since saving shows it as it is then.
  var pending = new Map();
  var KEPT = 500;

  function oldestShown() {
    var first = document.querySelector("#messages article.message[data-seq]");
    return first ? Number(first.dataset.seq) : 0;
  }

  htmx.defineExtension("hearth-changes", {
    transformResponse: function (text, xhr) {
      if (xhr) { return text; } // an answer to a request of this page, not the socket
      // News of a room's settings for a room this page does not list (it was
      // archived when the page loaded): nothing here to update.
      var listed = /^<(?:span|li)[^>]* id="(room-(?:name|item)-\d+)"/.exec(text);
      if (listed && !document.getElementById(listed[1])) { return ""; }
      if (text.lastIndexOf('<div hx-swap-oob="innerHTML:#messages"', 0) === 0) {
        pending.clear(); // the whole list is replaced with how it is now
        return text;
      }
      var change = /^<(?:article|div)[^>]* id="(m-(\d+))"/.exec(text);
      if (!change || document.getElementById(change[1])) { return text; }
      var parsed = document.createElement("template");
      parsed.innerHTML = text;
      var first = parsed.content.firstElementChild;
      first.remove();
      var editing = document.getElementById("edit-" + change[1]);
      if (editing) {
        if (first.getAttribute("hx-swap-oob") === "delete") { editing.remove(); }
      } else if (Number(change[2]) < oldestShown()) {
        pending.delete(change[1]);
        pending.set(change[1], first);
        if (pending.size > KEPT) { pending.delete(pending.keys().next().value); }
      }
      return parsed.innerHTML;
    }
  });

  // Older messages just shown: apply the changes kept for them, in order.
  function applyPending() {
    pending.forEach(function (el, id) {
      var target = document.getElementById(id);
      if (!target) { return; }
      pending.delete(id);
      if (el.getAttribute("hx-swap-oob") === "delete") { target.remove(); return; }
      el.removeAttribute("hx-swap-oob");
      target.replaceWith(el);
      htmx.process(el);
    });
  }

  // Who is online or typing is unknown while disconnected; the server sends both
  // again soon after the socket is back.
  function forgetLiveState() {
    ["online", "typing"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.textContent = ""; }
    });
  }

  // The close codes after which htmx-ext-ws reconnects by itself (server restart,
  // network loss, overload). After any other the socket stays closed: 1008 means
  // signed out (the server said so just before) or refused for good. Then the
  // composer stops taking messages that could never go out; what was typed stays.
  var RECONNECTS = [1006, 1011, 1012, 1013];
  var GOING_AWAY = 1001;

  function stopComposer() {
    var form = document.getElementById("composer");
    if (!form) { return; }
    var box = document.getElementById("composer-body");
    if (box) { box.readOnly = true; box.setAttribute("aria-disabled", "true"); }
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }

  // Files: the composer sends them over HTTP (the socket carries text only), with
  // a progress bar; the server answers with the composer, emptied or with the
  // problem (the files then stay uploaded, ticked, for the next try). They can
  // also be dropped on the room or pasted into the composer.
  function withFiles(form) {
    if (!form || form.id !== "composer") { return false; }
    var input = form.querySelector("input[type=file]");
    return (input && input.files.length > 0) || !!form.querySelector("input[name=attachment]:checked");
  }

  function composerProblem(form, text) {
    var old = document.getElementById("composer-problem");
    if (old) { old.remove(); }
    var p = document.createElement("p");
    p.className = "error";
    p.id = "composer-problem";
    p.setAttribute("role", "alert");
    p.textContent = text;
    form.appendChild(p);
  }

  function sendWithFiles(form) {
    var chat = document.getElementById("chat");
    var maxMb = chat ? Number(chat.getAttribute("data-attachment-max-mb")) : 0;
    var input = form.querySelector("input[type=file]");
    var total = 0;
    Array.prototype.forEach.call(input ? input.files : [], function (f) { total += f.size; });
    if (maxMb && total > maxMb * 1024 * 1024) {
      composerProblem(form, "Files sent with one message can be at most " + maxMb +
        " MB together. Send fewer or smaller files, or share a link instead.");
      return;
    }
    var box = document.getElementById("composer-body");
    var sent = box ? box.value : "";
    var progress = document.getElementById("composer-progress");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (e) {
      if (progress && e.lengthComputable) { progress.hidden = false; progress.value = e.loaded / e.total; }
    });
    function done() {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      if (progress) { progress.hidden = true; }
    }
    xhr.addEventListener("load", function () {
      var now = box ? box.value : "";
      var answer = xhr.getResponseHeader("Content-Type") || "";
      if (xhr.responseText.indexOf('id="composer"') < 0 || answer.indexOf("text/html") !== 0) {
        done();
        composerProblem(form, xhr.status === 413
          ? "Those files are more than Hearth accepts with one message."
          : "The files could not be sent. Try again in a moment.");
        return;
      }
      htmx.swap(form, xhr.responseText, { swapStyle: "outerHTML" });
      var fresh = document.getElementById("composer-body");
      // What was typed while the files went up follows what was sent.
      if (fresh && now !== sent) {
        fresh.value = xhr.status === 200 && now.lastIndexOf(sent, 0) === 0 ? now.slice(sent.length) : now;
      }
    });
    xhr.addEventListener("error", function () {
      done();
      composerProblem(form, "The files could not be sent: the connection was lost. Try again.");
    });
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    xhr.send(new FormData(form));
  }

  // Ahead of htmx's socket sending (capture, on the way down to the form).
  document.addEventListener("submit", function (e) {
    if (!withFiles(e.target)) { return; }
    e.preventDefault();
    e.stopImmediatePropagation();
    sendWithFiles(e.target);
  }, true);

  function addFiles(files) {
    var input = document.getElementById("composer-file");
    if (!input || !files || files.length === 0 || typeof DataTransfer === "undefined") { return; }
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
    Array.prototype.forEach.call(files, function (f) { all.items.add(f); });
    input.files = all.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function dragsFiles(e) {
    return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0 &&
      e.target.closest && e.target.closest("#chat") && document.getElementById("composer-file");
  }
  document.addEventListener("dragover", function (e) {
    if (!dragsFiles(e)) { return; }
    e.preventDefault();
    document.getElementById("chat").classList.add("dropping");
  });
  document.addEventListener("dragleave", function (e) {
    var chat = document.getElementById("chat");
    if (chat && !chat.contains(e.relatedTarget)) { chat.classList.remove("dropping"); }
  });
  document.addEventListener("drop", function (e) {
    if (!dragsFiles(e)) { return; }
    e.preventDefault();
    document.getElementById("chat").classList.remove("dropping");
    addFiles(e.dataTransfer.files);
  });
  document.addEventListener("paste", function (e) {
    if (e.target.id !== "composer-body" || !e.clipboardData || e.clipboardData.files.length === 0) { return; }
    e.preventDefault();
    addFiles(e.clipboardData.files);
  });

  // A message sent while the socket is down waits in htmx's queue and goes out on
  // reconnect; until the server answers (with a fresh composer) the composer is
  // locked, so pressing Enter again cannot queue the same message twice.
  var connected = false;
  document.addEventListener("submit", function (e) {
    if (e.target.id !== "composer" || connected) { return; }
    var box = document.getElementById("composer-body");
    if (box) { box.readOnly = true; }
    e.target.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    status("Not connected: your message will be sent when the connection is back.");
  });

  document.addEventListener("htmx:wsOpen", function () { connected = true; status(""); });
  document.addEventListener("htmx:wsClose", function (e) {
    connected = false;
    var code = e.detail && e.detail.event ? e.detail.event.code : 0;
    if (code === GOING_AWAY) { return; }
    forgetLiveState();
    if (RECONNECTS.indexOf(code) >= 0) {
      status("Connection lost. Reconnecting…");
    } else {
      stopComposer();
      status("Disconnected. Reload the page to continue.");
    }
  });

  // "Notify me on this device" (the dashboard): registers the service worker,
  // subscribes with the server's key, and hands the subscription to Hearth.
  function keyBytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return bytes;
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("#notify-device");
    if (!button) { return; }
    var said = document.getElementById("notify-status");
    function say(text) { if (said) { said.textContent = text; } }
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      say("This browser cannot show notifications from web pages.");
      return;
    }
    button.disabled = true;
    say("Asking your browser…");
    navigator.serviceWorker.register("/sw.js").then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(button.getAttribute("data-key")),
      });
    }).then(function (subscription) {
      return fetch("/push/subscriptions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(subscription),
      });
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("Hearth refused the subscription (" + answer.status + ")."); }
      window.location.reload();
    }).catch(function (err) {
      button.disabled = false;
      say("Notifications could not be turned on: " + (err && err.message ? err.message : err));
    });
  });
})();
