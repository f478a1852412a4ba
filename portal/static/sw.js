// App-shell service worker: static assets cache-first, pages network-first with an offline page.
// The Portal serves this file with VERSION set to a hash of its static files (portal/web/views.py), and pages
// ask for assets as /static/...?v=VERSION: a deploy that changes an asset changes this file (the browser then
// installs the new worker, whose activate drops the old caches) and the URLs pages ask for (never in a cache).
const VERSION = "__STATIC_VERSION__";
const CACHE = `portal-shell-${VERSION}`;
const ASSETS = ["/static/css/app.css", "/static/js/app.js", "/static/vendor/htmx/htmx.min.js", "/static/icons/icon.svg"];
// Without cookies: a background fetch must never carry (or be answered with) a session of its own.
const OFFLINE = new Request("/offline", { credentials: "omit" });

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((c) => c.addAll([...ASSETS.map((path) => `${path}?v=${VERSION}`), OFFLINE]))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) =>
    Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});

async function cacheFirst(req, url) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (hit) return hit;
  const response = await fetch(req);
  // Only this build's URLs are kept: an unversioned one could be an old file forever.
  if (response.ok && url.searchParams.get("v") === VERSION) cache.put(req, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(req, url));
  } else if (req.mode === "navigate") {
    event.respondWith(fetch(req).catch(() => caches.open(CACHE).then((c) => c.match(OFFLINE))));
  }
});
