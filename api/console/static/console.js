// Small enhancements; every page works without them.

// An element with data-refresh="<seconds>" and an id is fetched again on that period and
// swapped in place, until the user starts filling in a form inside it.
function refreshPeriodically(element) {
  const seconds = Number(element.dataset.refresh) || 5;
  let editing = false;
  element.addEventListener("input", () => { editing = true; });
  element.addEventListener("change", () => { editing = true; });
  setInterval(async () => {
    const focused = document.activeElement;
    if (editing || (element.contains(focused) && focused.matches("input, select, textarea"))) return;
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById(element.id);
    if (!fresh) return;
    // Keep what the reader unfolded (a routing trace, say) unfolded.
    const open = [...element.querySelectorAll("details[open][id]")].map((details) => details.id);
    element.replaceChildren(...fresh.childNodes);
    open.forEach((id) => { const details = document.getElementById(id); if (details) details.open = true; });
  }, seconds * 1000);
}

// A form with data-confirm="question" asks before it is sent.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh][id]").forEach(refreshPeriodically);
});
