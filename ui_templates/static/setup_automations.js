// The automation builder: actions may be dragged into order as well as moved with
// their buttons. A drop renumbers the actions' inputs (actions-<n>-...), so the form
// posts them in their new order; each keeps its origin, and with it its secrets. A new
// automation's API name is suggested from its label as it is typed.
import { suggestApiNames } from "./api_names.js";

suggestApiNames(document);
const list = document.querySelector("[data-action-list]");

function renumber() {
  const items = [...list.querySelectorAll("[data-action-item]")];
  items.forEach((item, position) => {
    const was = item.dataset.index;
    if (was !== String(position)) {
      const from = `actions-${was}-`;
      const to = `actions-${position}-`;
      for (const element of item.querySelectorAll("*")) {
        for (const name of ["name", "id", "for", "aria-describedby"]) {
          const value = element.getAttribute(name);
          if (value && value.includes(from)) element.setAttribute(name, value.replaceAll(from, to));
        }
        if (element.tagName === "BUTTON" && /^(up|down|remove)-\d+$/.test(element.value)) {
          element.value = element.value.replace(/\d+$/, String(position));
        }
      }
      item.dataset.index = String(position);
      item.id = `action-${position}`;
    }
    item.querySelector("[data-action-number]").textContent = String(position + 1);
    item.querySelector('button[value^="up-"]').disabled = position === 0;
    item.querySelector('button[value^="down-"]').disabled = position === items.length - 1;
  });
}

if (list) {
  let dragged = null;
  list.querySelectorAll("[data-action-item]").forEach((item, position) => {
    item.dataset.index = String(position);
    const handle = item.querySelector(".action-number");
    handle.setAttribute("title", "Drag to reorder");
    item.classList.add("is-draggable");
    item.draggable = true;
    item.addEventListener("dragstart", (event) => {
      // Only from the header: dragging inside a text box selects text.
      if (!event.target.closest || event.target !== item) return;
      dragged = item;
      item.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.id);
    });
    item.addEventListener("dragend", () => {
      item.classList.remove("is-dragging");
      dragged = null;
      renumber();
    });
    item.addEventListener("dragover", (event) => {
      if (!dragged || dragged === item) return;
      event.preventDefault();
      const box = item.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? item.nextSibling : item);
    });
    item.addEventListener("drop", (event) => event.preventDefault());
  });
  // Text boxes stay selectable: only the action's header starts a drag. Listened for on
  // the list, so the boxes the formula editor adds later (its pickers, Try it) count too.
  const BOXES = "input, textarea, select";
  const itemOf = (event) => (event.target.closest?.(BOXES) ? event.target.closest("[data-action-item]") : null);
  list.addEventListener("mousedown", (event) => {
    const item = itemOf(event);
    if (item) item.draggable = false;
  });
  for (const name of ["mouseup", "focusout"]) {
    list.addEventListener(name, (event) => {
      const item = itemOf(event);
      if (item) item.draggable = true;
    });
  }
}

const summary = document.querySelector("[data-error-summary]");
if (summary) summary.focus();
