// The console's page-wide behaviour. Loaded as a module on every page; no
// inline script exists anywhere (the Content-Security-Policy forbids it).

// A message in the page's alert area (the same place the server's htmx
// answers put theirs).
export function flash(kind, text) {
  const area = document.getElementById("flash");
  if (!area) return;
  const p = document.createElement("p");
  p.className = `flash ${kind}`;
  p.setAttribute("role", "alert");
  p.textContent = text;
  area.replaceChildren(p);
}

// The alert area empties itself after a while, and on Escape.
document.addEventListener("htmx:afterSwap", () => {
  const area = document.getElementById("flash");
  if (area && area.firstElementChild) {
    clearTimeout(area.dataset.timer);
    area.dataset.timer = setTimeout(() => area.replaceChildren(), 8000);
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") document.getElementById("flash")?.replaceChildren();
});

// A network failure (the gateway unreachable) is said, not swallowed.
document.addEventListener("htmx:sendError", () => {
  flash("error", document.documentElement.lang === "fr" ? "Le serveur ne répond pas ; réessayez." : "The server does not answer; try again.");
});

// A button marked `data-print` prints the page (the manifest's sheet); the
// print stylesheet leaves out the navigation and the buttons.
document.addEventListener("click", (e) => {
  if (e.target instanceof Element && e.target.closest("[data-print]")) window.print();
});
