// Small enhancements; every page works without them.

// Live parts. An element with data-live and an id is fetched again (this page's address, the
// element swapped in place) when the live event stream tells of a change it shows. The stream
// is the API's GET /ccaas/1/events/stream for the signed-in user, under /console where the
// cookie goes: it carries only what the user may read. data-live lists what an element shows:
//   all                 every event of the stream
//   queue:<id>          conversations that are or were in that queue
//   conversation:<id>   that conversation
//   agents              agents' status
// The page says where its stream starts (data-live-after on <body>: where the feed stood when
// the page was read) and which event types there are (data-live-types). Refetches come at most
// every REFETCH_MS, one at a time; an element the reader is in (a focused link or button, a
// form being filled in) is never pulled from under them. While the stream is down the parts
// are fetched again every FALLBACK_MS instead.
const LIVE_STREAM = "/console/events/stream";
const REFETCH_MS = 300;
const FALLBACK_MS = 30000;

function shows(element, type, data) {
  const conversation = data.conversation || {};
  const event = data.event || {};
  return element.dataset.live.split(/\s+/).some((token) => {
    const [kind, id] = token.split(":");
    if (kind === "all") return true;
    if (kind === "conversation") return conversation.id === id;
    if (kind === "queue") return [conversation.queueId, event.fromQueueId, event.toQueueId].includes(id);
    if (kind === "agents") return type === "agent.status_changed";
    return false;
  });
}

function liveUpdates(elements) {
  const body = document.body;
  const types = (body.dataset.liveTypes || "").split(",").filter(Boolean);
  let lastId = body.dataset.liveAfter || "";
  const touched = new Set();
  elements.forEach((element) => {
    element.addEventListener("input", () => touched.add(element));
    element.addEventListener("change", () => touched.add(element));
  });
  const busy = (element) => touched.has(element) || document.hidden || element.contains(document.activeElement);

  const pending = new Set();
  let timer = null;
  let fetching = false;
  let lastFetch = 0;

  function later(delay) {
    if (!timer) timer = setTimeout(() => { timer = null; refetch(); }, delay);
  }

  async function refetch() {
    if (fetching) return;  // the fetch under way looks again when it ends
    pending.forEach((element) => { if (touched.has(element)) pending.delete(element); });
    const ready = [...pending].filter((element) => !busy(element));
    if (!ready.length) {
      if (pending.size) later(1000);  // the reader is in it, or the tab hidden: look again soon
      return;
    }
    const wait = lastFetch + REFETCH_MS - Date.now();
    if (wait > 0) { later(wait); return; }
    ready.forEach((element) => pending.delete(element));
    fetching = true;
    lastFetch = Date.now();
    try {
      const response = await fetch(location.href, { credentials: "same-origin" });
      const text = response.ok ? await response.text() : "";
      const fresh = text && new DOMParser().parseFromString(text, "text/html");
      ready.forEach((element) => {
        const replacement = fresh && fresh.getElementById(element.id);
        if (!replacement) return;
        if (busy(element)) { pending.add(element); return; }  // the reader moved in while it loaded
        // Keep what the reader unfolded (a routing trace, say) unfolded.
        const open = [...element.querySelectorAll("details[open][id]")].map((details) => details.id);
        element.replaceChildren(...replacement.childNodes);
        open.forEach((id) => { const details = document.getElementById(id); if (details) details.open = true; });
      });
    } catch (error) {
      ready.forEach((element) => pending.add(element));  // offline for a moment: again a little later
      lastFetch = Date.now() + 5000;
    } finally {
      fetching = false;
      if (pending.size) later(REFETCH_MS);
    }
  }

  function changed(which) {
    which.forEach((element) => { if (!touched.has(element)) pending.add(element); });
    if (pending.size) later(0);
  }

  let fallback = null;
  function connect() {
    const source = new EventSource(LIVE_STREAM + (lastId ? "?lastEventId=" + encodeURIComponent(lastId) : ""));
    source.addEventListener("open", () => {
      body.dataset.liveState = "open";
      clearInterval(fallback);
      fallback = null;
    });
    source.addEventListener("error", () => {
      body.dataset.liveState = "down";
      if (!fallback) fallback = setInterval(() => changed(elements), FALLBACK_MS);
      // The browser reconnects by itself (with Last-Event-ID) unless the stream was refused
      // (signed out, say): then a new one, after the last event seen, a while later.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, FALLBACK_MS);
    });
    const onEvent = (message) => {
      lastId = message.lastEventId || lastId;
      body.dataset.liveLastEventId = lastId;
      let data = {};
      try { data = JSON.parse(message.data).data || {}; } catch (error) { return; }
      changed(elements.filter((element) => shows(element, message.type, data)));
    };
    types.forEach((type) => source.addEventListener(type, onEvent));
  }
  connect();
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
  const live = [...document.querySelectorAll("[data-live][id]")];
  if (live.length && window.EventSource) liveUpdates(live);
});
