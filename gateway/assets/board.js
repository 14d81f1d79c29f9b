// The day board's hands: a trip (or an unassigned booking) dragged onto a
// driver's row asks dispatch to reassign it there; a click, Enter or Space
// opens its panel. Everything else is htmx and the server.

const PANEL = "#panel";
const DRAG_THRESHOLD = 6;

function tripUrl(id) {
  return `/board/trips/${encodeURIComponent(id)}`;
}

function openPanel(el) {
  const id = el.dataset.booking;
  if (id) htmx.ajax("GET", tripUrl(id), { source: el, target: PANEL });
}

// The driver row under a screen point, if any.
function rowAt(x, y) {
  const hit = document.elementFromPoint(x, y);
  return hit ? hit.closest("g.row") : null;
}

let drag = null;

function start(e) {
  const item = e.target.closest("[data-booking]");
  if (!item || e.button !== 0) return;
  drag = { item, x: e.clientX, y: e.clientY, ghost: null, over: null, from: item.closest("g.row") };
}

function move(e) {
  if (!drag) return;
  if (!drag.ghost) {
    if (Math.hypot(e.clientX - drag.x, e.clientY - drag.y) < DRAG_THRESHOLD) return;
    drag.ghost = document.createElement("div");
    drag.ghost.className = "drag-ghost";
    drag.ghost.textContent = `#${drag.item.dataset.booking}`;
    document.body.append(drag.ghost);
    drag.item.classList.add("dragging");
  }
  drag.ghost.setAttribute("aria-hidden", "true");
  // Positioned by a transform through the CSSOM, not a style attribute.
  drag.ghost.style.transform = `translate(${e.clientX + 12}px, ${e.clientY + 12}px)`;
  const row = rowAt(e.clientX, e.clientY);
  if (row !== drag.over) {
    drag.over?.classList.remove("drop-target");
    row?.classList.add("drop-target");
    drag.over = row;
  }
}

function end(e) {
  if (!drag) return;
  const { item, ghost, over, from } = drag;
  drag = null;
  over?.classList.remove("drop-target");
  if (!ghost) {
    openPanel(item);
    return;
  }
  ghost.remove();
  item.classList.remove("dragging");
  const row = rowAt(e.clientX, e.clientY);
  if (!row || row === from) return;
  htmx.ajax("POST", `${tripUrl(item.dataset.booking)}/reassign`, {
    source: item,
    target: PANEL,
    values: { driver_id: row.dataset.driver },
  });
}

document.addEventListener("pointerdown", (e) => {
  if (e.target.closest(".board [data-booking]")) start(e);
});
document.addEventListener("pointermove", move);
document.addEventListener("pointerup", end);
document.addEventListener("pointercancel", () => {
  drag?.ghost?.remove();
  drag?.item.classList.remove("dragging");
  drag?.over?.classList.remove("drop-target");
  drag = null;
});
document.addEventListener("keydown", (e) => {
  const item = e.target.closest?.(".board [data-booking]");
  if (item && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    openPanel(item);
  }
});
