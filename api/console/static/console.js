// Small enhancements; every page works without them.

// An element with data-refresh="<seconds>" and an id is fetched again on that period and
// swapped in place, unless the user is typing inside it.
function refreshPeriodically(element) {
  const seconds = Number(element.dataset.refresh) || 5;
  setInterval(async () => {
    if (element.contains(document.activeElement) && document.activeElement !== document.body) return;
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById(element.id);
    if (fresh) element.replaceChildren(...fresh.childNodes);
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
