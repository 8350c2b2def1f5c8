// The mobile key app's service worker (scope /key/): keeps the app shell so that the app
// opens and answers challenges offline. Network first (a new version arrives at once),
// the kept copy when the network fails. API calls (/api/v1) are never cached.
const CACHE = "securelogin-key-v4";
const SHELL = [
  "./",
  "manifest.webmanifest",
  "app.js",
  "ocra.js",
  "wire.js",
  "store.js",
  "bio.js",
  "vault.js",
  "i18n.js",
  "scan.js",
  "jsQR.js",
  "app.css",
  "icon-192.png",
  "icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// Web Push (RFC 8030): the message carries only {"push_id"}; who, where and what are
// read in the app over the signed pull channel, never from the notification.
const NOTICE = {
  title: "Mobile Key · 移动验证程序",
  body: "A request is waiting for your approval. · 有请求等待您批准。",
};

function notify(pushId) {
  return self.registration.showNotification(NOTICE.title, {
    body: NOTICE.body,
    tag: `push-${pushId}`,
    icon: "icon-192.png",
    requireInteraction: true,
  });
}

self.addEventListener("push", (event) => {
  let pushId = "";
  try {
    pushId = String(event.data.json().push_id || "");
  } catch {
    pushId = "";
  }
  event.waitUntil(notify(pushId));
});

// A page of the app may ask for the same notification (what a push would show).
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "show-push" && event.source && event.source.url.startsWith(self.registration.scope)) {
    event.waitUntil(notify(String(event.data.push_id || "")));
  }
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => w.url.startsWith(self.registration.scope));
      return open ? open.focus() : self.clients.openWindow(self.registration.scope);
    }),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  if (event.request.method !== "GET" || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) {
    return; // the API and everything else: straight to the network
  }
  const key = url.pathname === `${scope.pathname}index.html` ? scope.href : url.href.split("?")[0];
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      })
      .catch(() => caches.match(key).then((kept) => kept || Response.error())),
  );
});
