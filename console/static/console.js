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

// A countdown: data-countdown is the whole seconds left when the server read the page (from its
// clock, so a browser's wrong clock does not move it); shown as m:ss, counted down here without
// the network. A live part read again brings a fresh one. At 0:00 it stays until the stream
// tells of what happened (an offer lapsed: the part is read again without it).
const COUNTDOWN_TICK_MS = 250;

function countdownText(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function tickCountdowns() {
  document.querySelectorAll("[data-countdown]").forEach((element) => {
    if (!element.dataset.countdownEnd) {
      element.dataset.countdownEnd = String(Date.now() + Number(element.dataset.countdown) * 1000);
    }
    const left = Math.max(0, Math.ceil((Number(element.dataset.countdownEnd) - Date.now()) / 1000));
    const text = countdownText(left);
    if (element.textContent !== text) element.textContent = text;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  if (!document.querySelector("[data-countdown]") && !document.querySelector("[data-live][id]")) return;
  tickCountdowns();
  setInterval(tickCountdowns, COUNTDOWN_TICK_MS);
});

document.addEventListener("DOMContentLoaded", () => {
  const live = [...document.querySelectorAll("[data-live][id]")];
  if (live.length && window.EventSource) liveUpdates(live);
});

// The condition builder of the routing editor. Each rule's expression (its JSON text area,
// which the form submits) gets a builder beside it: rows of attribute, operator and value in
// $and / $or / $not groups, nested as deep as wanted, offering what the expression language
// allows (#expression-language: the compiler's own tables). Editing the builder rewrites the
// JSON; editing the JSON rebuilds the builder when it is valid and can be shown (otherwise a
// note says why, and the builder stays as it was). Values are typed by operator and attribute:
// $in/$nin take a comma list (an array), $exists true or false, an enum one of its values, and
// a custom attribute's value is text, a number or a boolean, as chosen.
const GROUP_NAMES = { $and: "all of ($and)", $or: "any of ($or)", $not: "not ($not)" };
const ORDERING = ["$lt", "$lte", "$gt", "$gte"];
const LISTS = ["$in", "$nin"];

class CannotShow extends Error {}

function element(tag, properties = {}, children = []) {
  const made = document.createElement(tag);
  Object.entries(properties).forEach(([name, value]) => {
    if (name === "dataset") Object.assign(made.dataset, value);
    else if (name.startsWith("aria") || name === "role") made.setAttribute(name.replace(/^aria/, "aria-").toLowerCase(), value);
    else made[name] = value;
  });
  made.append(...children);
  return made;
}

function expressionLanguage(spec) {
  const language = { ...spec, attributes: Object.fromEntries(spec.attributes.map((given) => [given.name, given])) };
  const custom = language.customPrefix;
  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
  const scalarType = (value) => ({ string: "text", number: "number", boolean: "boolean" })[typeof value];

  function attributeOf(name) {
    if (name.startsWith(custom)) {
      return /^[A-Za-z0-9_-]{1,100}$/.test(name.slice(custom.length)) ? { kind: "scalar", values: [], custom: true } : null;
    }
    const known = language.attributes[name];
    return known ? { ...known, custom: false } : null;
  }

  function operatorsOf(attribute) {
    return language.operators[attribute.kind];
  }

  // JSON -> the builder's model: {op: $and|$or|$not, children} or {attribute, op, value, valueType}.
  function parse(node, path) {
    const where = path || "the expression";
    if (!isObject(node) || Object.keys(node).length !== 1) throw new CannotShow(`${where} is not an object with one operator`);
    const [op, operand] = Object.entries(node)[0];
    if (op === "$and" || op === "$or") {
      if (!Array.isArray(operand)) throw new CannotShow(`${path}${op} is not a list`);
      return { op, children: operand.map((child, index) => parse(child, `${path}${op}[${index}].`)) };
    }
    if (op === "$not") return { op, children: [parse(operand, `${path}$not.`)] };
    if (!language.comparisons.includes(op)) throw new CannotShow(`${path}${op} is not an operator`);
    if (!isObject(operand) || Object.keys(operand).length !== 1) throw new CannotShow(`${path}${op} does not name one attribute`);
    const [name, value] = Object.entries(operand)[0];
    const attribute = attributeOf(name);
    if (!attribute) throw new CannotShow(`${path}${op}: ${name} is not an attribute`);
    if (!operatorsOf(attribute).includes(op)) throw new CannotShow(`${path}${op} is not for ${name}`);
    const condition = { attribute: name, op, value, valueType: "text" };
    if (op === "$exists") {
      if (typeof value !== "boolean") throw new CannotShow(`${path}${op} takes true or false`);
    } else if (LISTS.includes(op)) {
      if (!Array.isArray(value)) throw new CannotShow(`${path}${op} takes a list`);
      const types = new Set(value.map(scalarType));
      if (types.size > 1 || types.has(undefined)) throw new CannotShow(`${path}${op}: a list of mixed values`);
      if (value.some((item) => typeof item === "string" && (item.includes(",") || item.trim() !== item || !item))) {
        throw new CannotShow(`${path}${op}: a value with a comma or spaces around it`);
      }
      condition.valueType = types.size ? [...types][0] : "text";
    } else {
      condition.valueType = scalarType(value);
      if (!condition.valueType) throw new CannotShow(`${path}${op} takes a single value`);
    }
    if (!attribute.custom && condition.valueType !== "text") throw new CannotShow(`${path}${op}: ${name} takes text`);
    return condition;
  }

  function root(expression) {
    const model = parse(expression, "");
    return model.children ? model : { op: "$and", children: [model], implicit: true };
  }

  // The builder's model -> JSON.
  function typed(text, type) {
    if (type === "number") return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
    if (type === "boolean") return text === "true";
    return text;
  }

  function json(model, isRoot) {
    if (!model.children) {
      let value = model.value;
      if (model.op === "$exists") value = value === true || value === "true";
      else if (LISTS.includes(model.op)) {
        value = (Array.isArray(value) ? value.map(String) : String(value).split(","))
          .map((item) => item.trim()).filter(Boolean).map((item) => typed(item, model.valueType));
      } else value = typed(String(value), model.valueType);
      return { [model.op]: { [model.attribute]: value } };
    }
    const children = model.children.map((child) => json(child, false));
    if (model.op === "$not") return { $not: children.length === 1 ? children[0] : { $and: children } };
    if (isRoot && model.implicit && children.length === 1) return children[0];
    return { [model.op]: children };
  }

  return { attributeOf, operatorsOf, root, json, language };
}

function conditionBuilder(textarea, holder, note, tools) {
  const { attributeOf, operatorsOf, language } = tools;
  let model = null;

  function say(text) {
    note.textContent = text;
    note.hidden = !text;
  }

  function changed() {
    textarea.value = JSON.stringify(tools.json(model, true), null, 2);
    textarea.rows = Math.max(3, textarea.value.split("\n").length + 1);
    say("");
  }

  function newCondition() {
    return { attribute: Object.keys(language.attributes)[0], op: "$eq", value: "", valueType: "text" };
  }

  function valueControl(condition, attribute) {
    const listed = LISTS.includes(condition.op);
    const shown = Array.isArray(condition.value) ? condition.value.join(", ") : String(condition.value);
    let choices = null;
    if (condition.op === "$exists") choices = ["true", "false"];
    else if (!listed && attribute.values.length) choices = attribute.values;
    else if (!listed && condition.valueType === "boolean") choices = ["true", "false"];
    if (choices) {
      if (!choices.includes(shown)) {
        condition.value = condition.op === "$exists" || condition.valueType === "boolean" ? (shown === "false" ? "false" : "true") : shown || choices[0];
        if (!choices.includes(String(condition.value))) choices = [...choices, String(condition.value)];
      }
      const select = element("select", { ariaLabel: "Value" },
        choices.map((choice) => element("option", { value: choice, textContent: choice, selected: choice === String(condition.value) })));
      select.addEventListener("change", () => { condition.value = select.value; changed(); });
      return select;
    }
    const number = !listed && condition.valueType === "number";
    const input = element("input", {
      ariaLabel: "Value", value: shown, type: number ? "number" : "text", step: "any",
      placeholder: listed ? (attribute.values.length ? attribute.values.join(", ") : "a, b, c") : "",
    });
    input.addEventListener("input", () => { condition.value = input.value; changed(); });
    return input;
  }

  function conditionRow(condition, parent) {
    const attribute = attributeOf(condition.attribute) || attributeOf(Object.keys(language.attributes)[0]);
    const custom = attribute.custom;
    const row = element("div", { className: "builder-row row", dataset: { testid: "builder-row" } });
    const redraw = (label) => {
      const fresh = conditionRow(condition, parent);
      row.replaceWith(fresh);
      changed();
      const again = fresh.querySelector(`[aria-label="${label}"]`);
      if (again) again.focus();
    };

    const names = [...Object.keys(language.attributes), language.customPrefix];
    const attributeSelect = element("select", { ariaLabel: "Attribute" }, names.map((name) => element("option", {
      value: name, textContent: name === language.customPrefix ? name + "<name>" : name,
      selected: custom ? name === language.customPrefix : name === condition.attribute,
    })));
    attributeSelect.addEventListener("change", () => {
      const chosen = attributeSelect.value === language.customPrefix ? language.customPrefix + "name" : attributeSelect.value;
      const now = attributeOf(chosen);
      condition.attribute = chosen;
      if (!operatorsOf(now).includes(condition.op)) condition.op = operatorsOf(now)[0];
      if (!now.custom) condition.valueType = "text";
      if (now.values.length && !LISTS.includes(condition.op) && condition.op !== "$exists") condition.value = now.values[0];
      redraw("Attribute");
    });
    row.append(attributeSelect);

    if (custom) {
      const nameInput = element("input", { ariaLabel: "Custom attribute", value: condition.attribute.slice(language.customPrefix.length), size: 12 });
      nameInput.addEventListener("input", () => { condition.attribute = language.customPrefix + nameInput.value; changed(); });
      row.append(nameInput);
    }

    const operatorSelect = element("select", { ariaLabel: "Operator" }, operatorsOf(attribute).map((op) =>
      element("option", { value: op, textContent: op, selected: op === condition.op })));
    operatorSelect.addEventListener("change", () => {
      const before = condition.op;
      condition.op = operatorSelect.value;
      if (Array.isArray(condition.value)) condition.value = condition.value.join(", ");
      if (condition.op === "$exists") condition.value = "true";
      else if (before === "$exists") condition.value = "";
      if (custom && ORDERING.includes(condition.op) && condition.valueType !== "number" && before !== condition.op) {
        condition.valueType = "number";
      }
      redraw("Operator");
    });
    row.append(operatorSelect, valueControl(condition, attribute));

    if (custom && condition.op !== "$exists") {
      const types = ORDERING.includes(condition.op) ? ["number", "text"] : ["text", "number", "boolean"];
      const typeSelect = element("select", { ariaLabel: "Value type" }, types.map((type) =>
        element("option", { value: type, textContent: type, selected: type === condition.valueType })));
      typeSelect.addEventListener("change", () => { condition.valueType = typeSelect.value; redraw("Value type"); });
      row.append(typeSelect);
    }
    const remove = element("button", { type: "button", className: "secondary", textContent: "Remove condition" });
    remove.addEventListener("click", () => {
      parent.children.splice(parent.children.indexOf(condition), 1);
      row.remove();
      changed();
    });
    row.append(remove);
    return row;
  }

  function groupBox(group, parent) {
    const box = element("fieldset", { className: "builder-group", dataset: { testid: "builder-group" } });
    const kind = element("select", { ariaLabel: "Group type" }, Object.entries(GROUP_NAMES).map(([op, label]) =>
      element("option", { value: op, textContent: label, selected: op === group.op })));
    kind.addEventListener("change", () => { group.op = kind.value; changed(); });
    box.append(element("legend", {}, [kind]));
    const members = element("div", { className: "builder-children" });
    const draw = (child) => (child.children ? groupBox(child, group) : conditionRow(child, group));
    members.append(...group.children.map(draw));
    const addCondition = element("button", { type: "button", className: "secondary", textContent: "Add condition" });
    addCondition.addEventListener("click", () => {
      const condition = newCondition();
      group.children.push(condition);
      members.append(draw(condition));
      changed();
    });
    const addGroup = element("button", { type: "button", className: "secondary", textContent: "Add group" });
    addGroup.addEventListener("click", () => {
      const inner = { op: "$or", children: [newCondition()] };
      group.children.push(inner);
      members.append(draw(inner));
      changed();
    });
    const buttons = element("div", { className: "row" }, [addCondition, addGroup]);
    if (parent) {
      const remove = element("button", { type: "button", className: "secondary", textContent: "Remove group" });
      remove.addEventListener("click", () => {
        parent.children.splice(parent.children.indexOf(group), 1);
        box.remove();
        changed();
      });
      buttons.append(remove);
    }
    box.append(members, buttons);
    return box;
  }

  function load() {
    let parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (error) {
      say(`The JSON is not valid (${error.message}); the builder shows the last valid expression.`);
      return;
    }
    try {
      model = tools.root(parsed);
    } catch (error) {
      if (!(error instanceof CannotShow)) throw error;
      say(`The builder cannot show this expression (${error.message}); edit the JSON.`);
      return;
    }
    say("");
    holder.replaceChildren(groupBox(model, null));
  }

  textarea.addEventListener("input", load);
  holder.hidden = false;
  load();
}

document.addEventListener("DOMContentLoaded", () => {
  const spec = document.getElementById("expression-language");
  if (!spec) return;
  const tools = expressionLanguage(JSON.parse(spec.textContent));
  document.querySelectorAll("textarea[data-builder]").forEach((textarea) => {
    const holder = document.getElementById(textarea.dataset.builder);
    const note = document.getElementById(textarea.dataset.builder + "-note");
    if (holder && note) conditionBuilder(textarea, holder, note, tools);
  });
});
