// Small enhancements; every page works without them.

// An element with data-refresh="<seconds>" and an id is fetched again on that period and
// swapped in place, while the tab is visible and the reader is not inside it: a focused
// link or button, or a form being filled in, is never pulled from under them.
function refreshPeriodically(element) {
  const seconds = Number(element.dataset.refresh) || 5;
  let touched = false;
  element.addEventListener("input", () => { touched = true; });
  element.addEventListener("change", () => { touched = true; });
  const busy = () => touched || document.hidden || element.contains(document.activeElement);

  async function refresh() {
    if (!busy()) {
      try {
        const response = await fetch(location.href, { credentials: "same-origin" });
        const text = response.ok ? await response.text() : "";
        const fresh = text && new DOMParser().parseFromString(text, "text/html").getElementById(element.id);
        if (fresh && !busy()) {  // asked again: the reader may have moved in while it loaded
          // Keep what the reader unfolded (a routing trace, say) unfolded.
          const open = [...element.querySelectorAll("details[open][id]")].map((details) => details.id);
          element.replaceChildren(...fresh.childNodes);
          open.forEach((id) => { const details = document.getElementById(id); if (details) details.open = true; });
        }
      } catch (error) {
        // Offline for a moment: the next round tries again.
      }
    }
    setTimeout(refresh, seconds * 1000);
  }
  setTimeout(refresh, seconds * 1000);
}

// A form with data-confirm="question" asks before it is sent.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// An input with data-select-on-focus selects its text (a key to copy).
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh][id]").forEach(refreshPeriodically);
});
