// The mobile key app's service worker (scope /key/): keeps the app shell so that the app
// opens and answers challenges offline. Network first (a new version arrives at once),
// the kept copy when the network fails. API calls (/api/v1) are never cached.
const CACHE = "securelogin-key-v1";
const SHELL = [
  "./",
  "manifest.webmanifest",
  "app.js",
  "ocra.js",
  "wire.js",
  "store.js",
  "bio.js",
  "i18n.js",
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
