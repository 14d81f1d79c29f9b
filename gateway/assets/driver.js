// The driver's page shares the phone's position while it is open: every fix
// from the Geolocation API (watchPosition), at most one a second, goes into a
// queue kept in localStorage, which is sent to the console whenever the
// network is there (at once, on the `online` event and on a retry timer), so
// a dead zone loses nothing. The server keeps one position a second and never
// lets a late one replace a newer one; a batch it refuses for a bad position
// is dropped, since sending it again would be refused again.

const page = document.getElementById("driver");
const QUEUE = "atmr.driver.positions";
const MAX_QUEUED = 3600;
const MAX_BATCH = 600;
const RETRY_MS = 15000;

function csrf() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrf-token"] || "";
  } catch {
    return "";
  }
}

function load() {
  try {
    const q = JSON.parse(localStorage.getItem(QUEUE) || "[]");
    return Array.isArray(q) ? q : [];
  } catch {
    return [];
  }
}

function save(q) {
  localStorage.setItem(QUEUE, JSON.stringify(q.slice(-MAX_QUEUED)));
}

function say(key, extra) {
  const el = document.getElementById("share-state");
  if (!el) return;
  el.textContent = (el.dataset[key] || key) + (extra ? ` ${extra}` : "");
  el.dataset.state = key;
}

let sending = false;
let lastSecond = null;

async function flush() {
  const q = load();
  const pending = document.getElementById("share-pending");
  if (pending) pending.textContent = String(q.length);
  if (sending || q.length === 0) return;
  if (navigator.onLine === false) {
    say("offline");
    return;
  }
  const batch = q.slice(0, MAX_BATCH);
  sending = true;
  try {
    const res = await fetch(page.dataset.positions, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify({ positions: batch }),
    });
    if (res.ok) {
      // Positions taken while this batch was on its way stay queued.
      save(load().slice(batch.length));
      const answer = await res.json();
      page.dataset.sent = String(Number(page.dataset.sent || 0) + answer.accepted);
      say("sharing");
    } else if (res.status === 400 || res.status === 422) {
      save(load().slice(batch.length));
      say("refused");
    } else {
      say("waiting");
    }
  } catch {
    say("offline");
  } finally {
    sending = false;
    const left = load().length;
    if (pending) pending.textContent = String(left);
    if (left > 0 && left !== q.length && navigator.onLine !== false) setTimeout(flush, 0);
  }
}

function onFix(p) {
  const second = Math.floor(p.timestamp / 1000);
  if (second === lastSecond) return;
  lastSecond = second;
  const q = load();
  q.push({
    position: { latitude: p.coords.latitude, longitude: p.coords.longitude },
    time: new Date(p.timestamp).toISOString(),
    accuracy_m: Math.max(0, Math.min(10000, p.coords.accuracy || 0)),
  });
  save(q);
  flush();
}

function onError(e) {
  say(e && e.code === 1 ? "denied" : "unavailable");
}

if (page && page.dataset.positions) {
  if ("geolocation" in navigator) {
    say("starting");
    navigator.geolocation.watchPosition(onFix, onError, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
  } else {
    say("unavailable");
  }
  window.addEventListener("online", flush);
  setInterval(flush, RETRY_MS);
  flush();
}

// A no-show needs its reason: the button opens the reason's field first.
document.addEventListener("click", (e) => {
  const open = e.target.closest("[data-no-show]");
  if (!open) return;
  const form = document.getElementById(open.dataset.noShow);
  if (form) {
    form.hidden = false;
    open.hidden = true;
    const input = form.querySelector("input[name=reason]");
    if (input) input.focus();
  }
});
