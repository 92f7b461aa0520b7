// Setup → Validation rules: drag a rule by its handle to reorder the list; on drop the
// new order is posted (the page's order form, one "order" value per rule). Without this
// script, and from the keyboard, each rule's Up and Down buttons move it one place.

const rows = document.querySelector("[data-rule-rows]");
const form = document.querySelector("[data-order-form]");

function names() {
  return [...rows.querySelectorAll("tr[data-rule]")].map((row) => row.dataset.rule);
}

function submitOrder() {
  for (const input of form.querySelectorAll("input[name='order']")) {
    input.remove();
  }
  for (const name of names()) {
    form.append(Object.assign(document.createElement("input"), { type: "hidden", name: "order", value: name }));
  }
  form.submit();
}

if (rows && form && rows.children.length > 1) {
  document.querySelector("[data-drag-hint]")?.removeAttribute("hidden");
  const before = names().join("\n");
  let dragged = null;
  for (const row of rows.querySelectorAll("tr[data-rule]")) {
    const handle = row.querySelector("[data-drag-handle]");
    handle.hidden = false;
    handle.addEventListener("mousedown", () => {
      row.draggable = true;
    });
    row.addEventListener("dragstart", (event) => {
      dragged = row;
      row.classList.add("rule-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.dataset.rule);
    });
    row.addEventListener("dragend", () => {
      row.classList.remove("rule-dragging");
      row.draggable = false;
      dragged = null;
      if (names().join("\n") !== before) {
        submitOrder();
      }
    });
    row.addEventListener("dragover", (event) => {
      if (!dragged || dragged === row) {
        return;
      }
      event.preventDefault();
      const box = row.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
    });
    row.addEventListener("drop", (event) => event.preventDefault());
  }
}
