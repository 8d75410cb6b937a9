// Hearth's service worker: it only shows notifications pushed to this device
// (Web Push) and opens their page when clicked. It caches nothing.
"use strict";

self.addEventListener("push", (event) => {
  let note = { title: "Hearth", body: "", url: "/chat" };
  try {
    note = { ...note, ...event.data.json() };
  } catch (_) {
    // Not what Hearth sends: show the plain default.
  }
  event.waitUntil(
    self.registration.showNotification(note.title, {
      body: note.body,
      tag: note.tag,
      icon: "/assets/favicon.svg",
      data: { url: note.url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || "/chat", self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const win of windows) {
        if (win.url === url.href && "focus" in win) return win.focus();
      }
      return self.clients.openWindow(url.href);
    }),
  );
});
