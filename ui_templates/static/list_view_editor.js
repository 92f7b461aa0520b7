// The list-view editor's enhancements (templates/setup/layouts/list_view_form.html). The
// form works without them (its move buttons post it back). With them:
// - the column move buttons move a column in place, keeping the focus on the button;
// - a filter's conditions are narrowed to those the field chosen takes;
// - a new view's API name follows its label until it is typed in itself.

const form = document.querySelector("[data-list-view-form]");

function renumberMoves(list) {
  const items = [...list.querySelectorAll("[data-lv-column]")];
  items.forEach((item, index) => {
    item.querySelector("[data-lv-move=up]").disabled = index === 0;
    item.querySelector("[data-lv-move=down]").disabled = index === items.length - 1;
  });
}

function moveColumn(button) {
  const item = button.closest("[data-lv-column]");
  const up = button.dataset.lvMove === "up";
  const other = up ? item.previousElementSibling : item.nextElementSibling;
  if (!other) {
    return;
  }
  if (up) {
    other.before(item);
  } else {
    other.after(item);
  }
  renumberMoves(item.parentElement);
  (button.disabled ? item.querySelector(`[data-lv-move=${up ? "down" : "up"}]`) : button).focus();
}

function narrowOperators(fieldSelect) {
  const row = fieldSelect.closest(".lv-filter");
  const operatorSelect = row && row.querySelector("[data-lv-filter-op]");
  const chosen = fieldSelect.selectedOptions[0];
  const allowed = chosen && chosen.dataset.operators ? chosen.dataset.operators.split(",") : null;
  if (!operatorSelect) {
    return;
  }
  for (const option of operatorSelect.options) {
    option.hidden = Boolean(allowed) && !allowed.includes(option.value);
    option.disabled = option.hidden;
  }
  if (operatorSelect.selectedOptions[0] && operatorSelect.selectedOptions[0].disabled) {
    operatorSelect.value = allowed[0];
  }
}

function slug(label) {
  const base = label.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50);
  return base && /^[a-z]/.test(base) ? base : base ? `view_${base}` : "";
}

if (form) {
  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-lv-move]");
    if (button) {
      event.preventDefault();
      moveColumn(button);
    }
  });
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-lv-filter-field]")) {
      narrowOperators(event.target);
    }
    if (event.target.matches("[data-lv-columns] input[type=checkbox]")) {
      event.target.closest("[data-lv-column]").classList.toggle("is-off", !event.target.checked);
    }
  });
  for (const select of form.querySelectorAll("[data-lv-filter-field]")) {
    narrowOperators(select);
  }
  const apiName = form.querySelector("[data-api-name]");
  const label = form.querySelector("#lv-label");
  if (apiName && label) {
    let typed = apiName.value !== "";
    apiName.addEventListener("input", () => { typed = apiName.value !== ""; });
    label.addEventListener("input", () => {
      if (!typed) {
        apiName.value = slug(label.value);
      }
    });
  }
}
