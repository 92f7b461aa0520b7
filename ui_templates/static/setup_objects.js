// Setup's object and field forms, enhanced. Every form works without this script:
// - an API name input ([data-api-name-from]) is suggested from its label as the admin
//   types, until they edit it themselves (the server derives the same when it is blank);
// - a type select ([data-retype]) redraws the form for the chosen type at once (without
//   the script, its Apply button does);
// - the values of a list of choices ([data-value-rows]) are reordered by dragging a row
//   or with its arrow buttons, in place (without the script the buttons submit the form,
//   which comes back with the value moved); the order of the rows is the order saved.
// The formula boxes are the formula editor's (formula_editor.js), which also follows a
// select naming a formula's object ([data-object-from], a roll-up's summarised object).

import { suggestApiNames } from "./api_names.js";

function redraw(select) {
  select.form.requestSubmit(select.form.querySelector('button[name="_retype"]'));
}

// The type the server drew the form for: the option marked selected in the page.
function drawnFor(select) {
  const drawn = [...select.options].find((option) => option.defaultSelected) || select.options[0];
  return drawn ? drawn.value : "";
}

function redrawOnRetype(root) {
  for (const select of root.querySelectorAll("select[data-retype]")) {
    select.addEventListener("change", () => redraw(select));
    // A type chosen before this script ran (a slow connection) redraws the form now.
    if (select.value !== drawnFor(select)) {
      redraw(select);
    }
  }
}

function announce(list, text) {
  const status = list.parentElement.querySelector("[data-values-status]");
  if (status) {
    status.textContent = text;
  }
}

function rowName(row) {
  return row.querySelector("[data-value-text]")?.value || "The value";
}

function moveRow(list, row, direction) {
  const rows = [...list.children];
  const index = rows.indexOf(row);
  const other = direction === "up" ? rows[index - 1] : rows[index + 1];
  if (!other) {
    announce(list, `${rowName(row)} is already ${direction === "up" ? "first" : "last"}.`);
    return;
  }
  if (direction === "up") {
    list.insertBefore(row, other);
  } else {
    list.insertBefore(other, row);
  }
  const position = [...list.children].indexOf(row) + 1;
  announce(list, `${rowName(row)} moved to position ${position} of ${rows.length}.`);
}

function enableDrag(list) {
  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    const row = event.target.closest?.("[data-value-row]");
    // Dragging starts at the row, not inside a text input (which selects text).
    if (!row || event.target.closest("input")) {
      return;
    }
    dragged = row;
    row.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", rowName(row));
  });
  list.addEventListener("dragover", (event) => {
    const over = event.target.closest?.("[data-value-row]");
    if (!dragged || !over || over === dragged) {
      return;
    }
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("drop", (event) => {
    if (dragged) {
      event.preventDefault();
    }
  });
  list.addEventListener("dragend", () => {
    if (!dragged) {
      return;
    }
    dragged.classList.remove("is-dragging");
    const position = [...list.children].indexOf(dragged) + 1;
    announce(list, `${rowName(dragged)} moved to position ${position} of ${list.children.length}.`);
    dragged = null;
  });
}

function enhanceValues(root) {
  for (const list of root.querySelectorAll("[data-value-rows]")) {
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-move]");
      if (!button) {
        return;
      }
      event.preventDefault();
      moveRow(list, button.closest("[data-value-row]"), button.dataset.move);
      button.focus();
    });
    list.addEventListener("change", (event) => {
      if (event.target.matches("[data-value-active]")) {
        event.target.closest("[data-value-row]").classList.toggle("is-inactive", !event.target.checked);
      }
    });
    enableDrag(list);
  }
}

function focusSummary(root) {
  const summary = root.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
}

suggestApiNames(document);
redrawOnRetype(document);
enhanceValues(document);
focusSummary(document);
