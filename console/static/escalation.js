// A queue's escalation ladder (queue_escalation_macros.html). Every page works without it.
//
// In a queue form, the steps are rows of plain inputs named escalation-<n>-<field>; the server
// reads them in order of n (gaps are fine) and drops blank ones. Without this script the form
// offers one blank row, and a step is removed by clearing its row. With it: "Add step" and
// "Remove" buttons, no blank row, and the rows' labels numbered as they stand.

function escalationRows(table) {
  const body = table.tBodies[0];
  const fieldset = table.closest("fieldset");
  const add = fieldset.querySelector("[data-escalation-add]");
  const empty = fieldset.querySelector("[data-escalation-empty]");
  const template = fieldset.querySelector("template[data-escalation-template]");
  const max = Number(table.dataset.max);
  let next = Number(table.dataset.next);

  function renumber() {
    [...body.rows].forEach((row, index) => {
      const number = String(index + 1);
      row.querySelector("[data-step-number]").textContent = number;
      row.querySelectorAll("[data-label]").forEach((control) => {
        control.setAttribute("aria-label", `Step ${number} ${control.dataset.label}`);
      });
      row.querySelector("[data-escalation-remove]").setAttribute("aria-label", `Remove step ${number}`);
    });
    empty.hidden = body.rows.length > 0;
    add.disabled = body.rows.length >= max;
  }

  function wire(row) {
    const remove = row.querySelector("[data-escalation-remove]");
    remove.hidden = false;
    remove.addEventListener("click", () => {
      row.remove();
      renumber();
      add.focus();
    });
  }

  body.querySelectorAll("tr[data-spare]").forEach((row) => row.remove());
  fieldset.querySelectorAll("[data-escalation-no-script]").forEach((note) => { note.hidden = true; });
  [...body.rows].forEach(wire);
  add.hidden = false;
  add.addEventListener("click", () => {
    if (body.rows.length >= max) return;
    const holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replaceAll("__n__", String(next));
    next += 1;
    const row = holder.querySelector("tr");
    body.append(row);
    wire(row);
    renumber();
    row.querySelector("input").focus();
  });
  renumber();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table[data-escalation]").forEach(escalationRows);
});
