// The patient page's offline worker (served at /p/sw.js, scoped to one page).
// The page itself is fetched fresh whenever there is a connection and kept for when
// there is none; a page the clinic turned off is removed from the phone too.
// Pictures, styles and scripts come from the copy kept here, refreshed in the background.
"use strict";
var CACHE = "openhep-page-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then(function (response) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) {
          if (response.ok) return cache.put(url.pathname, copy);
          if (response.status === 404) return cache.delete(url.pathname);
        });
        return response;
      }).catch(function () {
        return caches.match(url.pathname).then(function (kept) { return kept || Response.error(); });
      })
    );
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/media/") === 0) {
    event.respondWith(
      caches.open(CACHE).then(function (cache) {
        return cache.match(request).then(function (kept) {
          var fresh = fetch(request).then(function (response) {
            if (response.ok) cache.put(request, response.clone());
            return response;
          });
          if (!kept) return fresh;
          fresh.catch(function () { /* offline: the kept copy serves */ });
          return kept;
        });
      })
    );
  }
});
