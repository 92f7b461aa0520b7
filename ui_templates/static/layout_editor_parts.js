// Small parts of the layout editor (layout_editor.js): building elements, a list of
// choices to tick and order (a related list's columns, the highlights), and where a
// dragged field would land in a section's grid of fields.

// An element: h("button", { type: "button", class: "x", dataset: { key: "k" } }, "Text").
// Attributes that are false or null are left out; on* keys are listeners.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name.startsWith("on")) {
      element.addEventListener(name.slice(2), value);
    } else if (name === "value") {
      element.value = value;
    } else if (name === "checked" || name === "selected") {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return element;
}

// A select of (value, label) options with ``chosen`` selected.
export function select(attributes, options, chosen) {
  return h(
    "select",
    attributes,
    options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)),
  );
}

// A list of ``options`` ([{ name, label }]) to tick and order: the ticked ones (``chosen``,
// names in order) first, each with buttons to move it; at most ``most`` ticked. Calls
// ``change(names)`` with the new order after every change.
export function orderedChecklist({ id, legend, options, chosen, most, change, hint }) {
  const byName = new Map(options.map((option) => [option.name.toLowerCase(), option]));
  const ticked = chosen.filter((name) => byName.has(name.toLowerCase()));
  const rest = options.filter((option) => !ticked.some((name) => name.toLowerCase() === option.name.toLowerCase()));
  const full = ticked.length >= most;
  const items = [
    ...ticked.map((name, index) => {
      const option = byName.get(name.toLowerCase());
      const move = (offset) => {
        const order = [...ticked];
        [order[index], order[index + offset]] = [order[index + offset], order[index]];
        change(order);
      };
      return h(
        "li",
        { class: "le-check is-ticked" },
        h("input", {
          type: "checkbox",
          id: `${id}-${option.name}`,
          checked: true,
          dataset: { key: `${id}:${option.name}:tick` },
          onchange: () => change(ticked.filter((each) => each !== name)),
        }),
        h("label", { for: `${id}-${option.name}` }, option.label),
        h(
          "span",
          { class: "le-moves" },
          h("button", {
            type: "button",
            class: "icon-button",
            "aria-label": `Move ${option.label} up`,
            disabled: index === 0,
            dataset: { key: `${id}:${option.name}:up` },
            onclick: () => move(-1),
          }, h("span", { "aria-hidden": "true" }, "↑")),
          h("button", {
            type: "button",
            class: "icon-button",
            "aria-label": `Move ${option.label} down`,
            disabled: index === ticked.length - 1,
            dataset: { key: `${id}:${option.name}:down` },
            onclick: () => move(1),
          }, h("span", { "aria-hidden": "true" }, "↓")),
        ),
      );
    }),
    ...rest.map((option) =>
      h(
        "li",
        { class: "le-check" },
        h("input", {
          type: "checkbox",
          id: `${id}-${option.name}`,
          disabled: full,
          dataset: { key: `${id}:${option.name}:tick` },
          onchange: () => change([...ticked, option.name]),
        }),
        h("label", { for: `${id}-${option.name}` }, option.label),
      ),
    ),
  ];
  return h(
    "fieldset",
    { class: "le-checklist" },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint" }, hint) : null,
    h("ul", {}, items),
  );
}

// The position in ``list`` (its children [data-drop-item], in reading order, one or two to
// a row) before which a drop at (x, y) lands.
export function dropIndex(list, x, y) {
  const items = [...list.querySelectorAll(":scope > [data-drop-item]")];
  for (let index = 0; index < items.length; index += 1) {
    const box = items[index].getBoundingClientRect();
    if (y < box.top || (y <= box.bottom && x < box.left + box.width / 2)) {
      return index;
    }
  }
  return items.length;
}

// Shows where a drop would land: a mark before the item it would precede, or at the end.
export function markDrop(list, index) {
  clearDropMarks();
  const items = [...list.querySelectorAll(":scope > [data-drop-item]")];
  list.classList.add("is-drop-target");
  if (index < items.length) {
    items[index].classList.add("is-drop-before");
  } else {
    list.classList.add("is-drop-end");
  }
}

export function clearDropMarks() {
  for (const marked of document.querySelectorAll(".is-drop-target, .is-drop-before, .is-drop-end")) {
    marked.classList.remove("is-drop-target", "is-drop-before", "is-drop-end");
  }
}
