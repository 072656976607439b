// The patient's page: ticks and sessions saved as they are made, kept on the phone
// while offline and sent when it is back online; a hold timer and a repetition counter.
// Without this script the page is a plain form that posts the whole session at once.
(function () {
  "use strict";
  var form = document.getElementById("session-form");
  if (!form || !window.fetch || !window.localStorage) return;

  var url = form.action;
  var path = location.pathname;
  var stateKey = "openhep:session:" + path;
  var outboxKey = "openhep:outbox:" + path;
  var status = document.getElementById("sync-status");
  var firstName = form.getAttribute("data-therapist") || "Your therapist";

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function store(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: still sent */ }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function newSession() {
    return { session: newId(), started_at: new Date().toISOString(), done: [] };
  }
  function show(message, saved) {
    status.textContent = message;
    status.classList.toggle("saved", !!saved);
  }

  var state = load(stateKey, null) || newSession();
  store(stateKey, state);
  state.done.forEach(function (id) {
    var box = form.querySelector('input[name="done_' + id + '"]');
    if (box) box.checked = true;
  });

  // Sending: the outbox holds the latest state of each session not yet stored.
  var flushing = false;
  function queue(payload) {
    var out = load(outboxKey, {});
    out[payload.session] = payload;
    store(outboxKey, out);
    flush();
  }
  function flush() {
    if (flushing) return;
    var out = load(outboxKey, {});
    var ids = Object.keys(out);
    if (!ids.length) return;
    flushing = true;
    var offline = false;
    var refused = false;
    var finished = false;
    var sendNext = function (i) {
      if (i >= ids.length) {
        flushing = false;
        if (offline) show("Saved on this phone. It will be sent when you are back online.", false);
        else if (refused) show("This could not be saved. Please call your clinic.", false);
        else if (finished) show("Thank you: your session is saved. " + firstName + " will see it.", true);
        else show("Saved. " + firstName + " will see it.", true);
        if (!offline && Object.keys(load(outboxKey, {})).length) flush();
        return;
      }
      var id = ids[i];
      var body = JSON.stringify(out[id]);
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: body,
        credentials: "same-origin",
      }).then(function (response) {
        // Stored, or refused for good (the link was turned off): either way not resent.
        if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) {
          var now = load(outboxKey, {});
          if (JSON.stringify(now[id]) === body) { delete now[id]; store(outboxKey, now); }
          if (!response.ok) refused = true;
          else if (out[id].finished) finished = true;
        } else {
          offline = true;
        }
      }).catch(function () {
        offline = true;
      }).then(function () { sendNext(i + 1); });
    };
    sendNext(0);
  }

  function ticked() {
    return Array.prototype.filter.call(
      form.querySelectorAll('input[type="checkbox"][name^="done_"]'),
      function (box) { return box.checked; }
    ).map(function (box) { return Number(box.name.slice(5)); });
  }

  form.addEventListener("change", function (event) {
    if (!event.target.name || event.target.name.indexOf("done_") !== 0) return;
    state.done = ticked();
    store(stateKey, state);
    queue({ session: state.session, started_at: state.started_at, done: state.done });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var difficulty = {};
    data.forEach(function (value, name) {
      if (name.indexOf("difficulty_") === 0 && value) difficulty[name.slice(11)] = value;
    });
    queue({
      session: state.session,
      started_at: state.started_at,
      done: ticked(),
      difficulty: difficulty,
      finished: true,
      pain: data.get("pain") === null ? null : Number(data.get("pain")),
      note: data.get("note") || "",
    });
    form.reset();
    state = newSession();
    store(stateKey, state);
    status.scrollIntoView({ block: "center" });
  });

  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  flush();

  // Sound and vibration when a hold or a count is complete.
  var audio = null;
  function cue() {
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.35);
    } catch (e) { /* no sound: the screen and vibration still tell */ }
  }

  document.querySelectorAll(".helpers").forEach(function (el) { el.hidden = false; });

  document.querySelectorAll(".timer").forEach(function (timer) {
    var seconds = Number(timer.getAttribute("data-seconds"));
    var button = timer.querySelector(".timer-start");
    var display = timer.querySelector(".timer-display");
    var announce = timer.querySelector(".timer-announce");
    var label = button.innerHTML;
    var handle = null;
    function stop(text) {
      clearInterval(handle);
      handle = null;
      timer.classList.remove("running");
      button.innerHTML = label;
      display.textContent = text;
    }
    button.addEventListener("click", function () {
      if (handle) { stop(seconds + "s"); announce.textContent = "Timer stopped."; return; }
      var left = seconds;
      timer.classList.add("running");
      button.textContent = "Stop";
      display.textContent = left + "s";
      announce.textContent = "Hold for " + seconds + " seconds.";
      if (window.AudioContext && !audio) audio = new window.AudioContext();
      handle = setInterval(function () {
        left -= 1;
        display.textContent = left + "s";
        if (left <= 0) {
          stop("Done");
          announce.textContent = "Hold done. You can let go.";
          cue();
        }
      }, 1000);
    });
  });

  document.querySelectorAll(".counter").forEach(function (counter) {
    var target = Number(counter.getAttribute("data-target"));
    var display = counter.querySelector(".counter-display");
    var count = 0;
    function draw() { display.textContent = count + " of " + target + (count >= target ? " – done" : ""); }
    counter.querySelector(".counter-add").addEventListener("click", function () {
      count += 1;
      draw();
      if (count === target) cue();
    });
    counter.querySelector(".counter-reset").addEventListener("click", function () { count = 0; draw(); });
  });

  // Larger text, remembered on this phone (the link works without the script too).
  var sizeButton = document.getElementById("type-size");
  function applySize(large) {
    document.documentElement.classList.toggle("large-type", large);
    sizeButton.textContent = large ? "Smaller text" : "Larger text";
  }
  if (sizeButton) {
    var stored = localStorage.getItem("openhep:large");
    if (stored !== null && !/[?&]large=/.test(location.search)) applySize(stored === "1");
    sizeButton.addEventListener("click", function (event) {
      event.preventDefault();
      var large = !document.documentElement.classList.contains("large-type");
      applySize(large);
      localStorage.setItem("openhep:large", large ? "1" : "0");
    });
  }

  // Offline: the worker keeps this page and its pictures for when there is no signal.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/p/sw.js", { scope: path }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      if (!window.caches) return;
      var assets = [];
      document.querySelectorAll('link[rel="stylesheet"], script[src], img[src]').forEach(function (el) {
        assets.push(el.href || el.src);
      });
      return caches.open("openhep-page-v1").then(function (cache) {
        return fetch(path, { headers: { "X-OpenHEP-Offline-Copy": "1" }, credentials: "same-origin" })
          .then(function (response) { if (response.ok) return cache.put(path, response); })
          .then(function () { return cache.addAll(assets); });
      });
    }).catch(function () { /* offline use is a bonus; the page works without it */ });
  }
})();
