// The list's mass actions (templates/lists/mass_bar.html) and the mass edit form
// (templates/lists/mass.html). Both work as plain forms; with this:
// - "Select all" ticks and unticks the page's boxes, and follows them;
// - the bar says how many records are selected;
// - "Select all N matching this view" names N once the list's count has arrived;
// - on the mass edit form, changing a field ticks its "Change" box.
// The rows fragment replaces the table when the list pages in place, so the list's
// handlers are delegated from the document.

function listForm() {
  return document.querySelector("[data-list-mass]");
}

function rowBoxes() {
  return Array.from(document.querySelectorAll("input[data-list-select]"));
}

function refresh() {
  const form = listForm();
  if (!form) {
    return;
  }
  const boxes = rowBoxes();
  const ticked = boxes.filter((box) => box.checked).length;
  const all = form.querySelector("[data-list-select-all]");
  if (all) {
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  const scope = form.querySelector("[data-list-scope]");
  const count = form.querySelector("[data-list-selected-count]");
  const said = scope && scope.checked ? "" : ticked ? `${ticked} selected` : "";
  if (count && count.textContent !== said) {
    count.textContent = said; // only when it changes: the observer below sees every change
  }
  nameTotal(form);
}

// The count arrives after the page (list_view.js puts it in [data-list-total]).
function nameTotal(form) {
  const label = form.querySelector("[data-list-scope-label]");
  const total = document.querySelector("[data-list-total]");
  if (!label || label.dataset.total || !total) {
    return;
  }
  const match = total.textContent.match(/[\d,]+/);
  if (match) {
    label.dataset.total = match[0];
    label.textContent = `Select all ${match[0]} matching this view`;
  }
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("[data-list-select-all]")) {
    for (const box of rowBoxes()) {
      box.checked = target.checked;
    }
  }
  if (target.closest("[data-mass-field]") && !target.matches("[data-mass-change]")) {
    const change = target.closest("[data-mass-field]").querySelector("[data-mass-change]");
    if (change) {
      change.checked = true;
    }
  }
  refresh();
});

document.addEventListener("input", (event) => {
  const field = event.target.closest("[data-mass-field]");
  if (field && !event.target.matches("[data-mass-change]")) {
    field.querySelector("[data-mass-change]").checked = true;
  }
});

// The table and bar are swapped in when the list pages or searches in place, and the
// count arrives later: follow both.
const results = document.querySelector("[data-list-screen]");
if (results) {
  new MutationObserver(refresh).observe(results, { childList: true, subtree: true });
}
refresh();
