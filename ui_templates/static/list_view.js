// The list screen's enhancements (templates/lists). The markup works without them: search
// and the filter panel are GET forms, sorting and paging are links, the column chooser's
// move buttons post their form. With them:
// - typing in the search box updates the results in place ([data-list-search]), and the
//   pager loads pages in place ([data-list-page]), both through the rows fragment, with the
//   address kept in step (back and forward work);
// - the total count arrives after the page ([data-list-total]);
// - the column chooser moves columns in place, by its buttons or by dragging;
// - columns resize by dragging a header's edge, or with the arrow keys on it;
// - the "add a filter" row offers the operators of the field chosen;
// - deleting a view asks first ([data-confirm]);
// - a panel the page did not render ([data-panel-body][data-url]) is fetched for the
//   address's state when it first opens, in place of its link that reloads the page
//   with the panel open.

const screen = document.querySelector("[data-list-screen]");
const SEARCH_DELAY = 250;
const WIDTH_STEP = 20;
const MIN_WIDTH = 60;
const MAX_WIDTH = 800;

function csrfToken() {
  const input = document.querySelector("input[name=csrf_token]");
  return input ? input.value : "";
}

function queryOf(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value !== "") {
      params.append(name, value);
    }
  }
  return params;
}

// -- results in place ----------------------------------------------------------------------
let pending = null;

async function loadResults(params, { push = false, focusRel = null } = {}) {
  if (pending) {
    pending.abort();
  }
  pending = new AbortController();
  const query = params.toString();
  let response;
  try {
    response = await fetch(`${screen.dataset.rowsUrl}${query ? `?${query}` : ""}`, {
      headers: { Accept: "text/html" },
      signal: pending.signal,
    });
  } catch (error) {
    if (error.name === "AbortError") {
      return;
    }
    window.location.search = query; // the server answers the same state as a page
    return;
  }
  if (!response.ok && response.status !== 400) {
    window.location.search = query;
    return;
  }
  const results = screen.querySelector("[data-list-results]");
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  const fresh = template.content.querySelector("[data-list-results]");
  if (!results || !fresh) {
    return;
  }
  results.replaceWith(fresh);
  const address = `${window.location.pathname}${query ? `?${query}` : ""}`;
  if (push) {
    window.history.pushState({ list: true }, "", address);
  } else {
    window.history.replaceState({ list: true }, "", address);
  }
  keepFormsInStep(params);
  setUpResults(fresh, true);
  if (focusRel) {
    (fresh.querySelector(`a[rel=${focusRel}]`) || fresh.querySelector("[data-list-range]")).focus();
  }
}

// The range shown (or "No rows") said in the page's one live region.
function announce(results) {
  const status = screen.querySelector("[data-list-announce]");
  const range = results.querySelector("[data-list-range]");
  if (status && range) {
    status.textContent = range.textContent.replace(/\s+/g, " ").trim();
  }
}

// Forms posted later carry the state shown now: the search words and the whole address.
function keepFormsInStep(params) {
  const state = new URLSearchParams(params);
  state.delete("cursor");
  state.delete("before");
  state.delete("start");
  for (const input of document.querySelectorAll("[data-list-q]")) {
    input.value = params.get("q") || "";
  }
  for (const input of document.querySelectorAll("[data-list-state]")) {
    input.value = state.toString();
  }
}

function setUpSearch() {
  const input = screen.querySelector("[data-list-search]");
  const form = screen.querySelector("[data-list-search-form]");
  if (!input || !form) {
    return;
  }
  let timer = null;
  const search = () => {
    clearTimeout(timer);
    loadResults(queryOf(form));
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
}

function setUpPaging() {
  screen.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-list-page]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
      return;
    }
    event.preventDefault();
    const url = new URL(link.href);
    loadResults(url.searchParams, { push: true, focusRel: link.getAttribute("rel") });
  });
  window.addEventListener("popstate", (event) => {
    if (event.state && event.state.list) {
      loadResults(new URLSearchParams(window.location.search));
      const input = screen.querySelector("[data-list-search]");
      if (input) {
        input.value = new URLSearchParams(window.location.search).get("q") || "";
      }
    }
  });
}

async function loadCount(results, speak) {
  const total = results.querySelector("[data-list-total]");
  if (!total) {
    return;
  }
  const query = total.dataset.countQuery;
  try {
    const response = await fetch(`${screen.dataset.countUrl}${query ? `?${query}` : ""}`, {
      headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (response.ok && typeof body.total === "number") {
      total.textContent = ` of ${body.total.toLocaleString("en-US")}`;
      if (speak) {
        announce(results);
      }
      const link = results.querySelector(".list-count-link");
      if (link) {
        link.remove();
      }
    }
  } catch {
    // The count is a courtesy: the page works without it.
  }
}

// -- column widths -------------------------------------------------------------------------
function snap(width) {
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(width / WIDTH_STEP) * WIDTH_STEP));
}

let saveTimer = null;

function saveWidths(table) {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const columns = Array.from(table.querySelectorAll("th[data-column]")).map((header) => ({
      field: header.dataset.column,
      width: snap(header.getBoundingClientRect().width),
    }));
    fetch(screen.dataset.columnsUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ view: screen.dataset.view, columns }),
    });
  }, 400);
}

function setUpResizing(results) {
  const table = results.querySelector("[data-list-table]");
  if (!table) {
    return;
  }
  const cols = new Map(Array.from(table.querySelectorAll("col[data-column]")).map((col) => [col.dataset.column, col]));
  const headers = Array.from(table.querySelectorAll("th[data-column]"));
  const fixTableWidth = () => {
    const total = headers.reduce((sum, header) => sum + parseFloat(cols.get(header.dataset.column).style.width), 0);
    table.style.width = `${Math.round(total)}px`;
  };
  // At the first resize the widths as shown (the table fills the card) are held in
  // pixels, so that a resize moves one column's edge and nothing else.
  const hold = () => {
    if (table.style.width) {
      return;
    }
    const shown = headers.map((header) => header.getBoundingClientRect().width);
    headers.forEach((header, index) => {
      cols.get(header.dataset.column).style.width = `${shown[index]}px`; // all measured first
    });
    fixTableWidth();
  };
  for (const header of headers) {
    const col = cols.get(header.dataset.column);
    const handle = document.createElement("span");
    handle.className = "col-resizer";
    handle.setAttribute("role", "separator");
    handle.setAttribute("aria-orientation", "vertical");
    handle.setAttribute("aria-label", `Resize ${header.textContent.trim()}`);
    handle.setAttribute("aria-valuemin", String(MIN_WIDTH));
    handle.setAttribute("aria-valuemax", String(MAX_WIDTH));
    handle.tabIndex = 0;
    const setWidth = (width) => {
      const bounded = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(width)));
      col.style.width = `${bounded}px`;
      handle.setAttribute("aria-valuenow", String(bounded));
      fixTableWidth();
    };
    handle.setAttribute("aria-valuenow", String(Math.round(header.getBoundingClientRect().width)));
    handle.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      hold();
      const startX = event.clientX;
      const startWidth = header.getBoundingClientRect().width;
      handle.setPointerCapture(event.pointerId);
      table.classList.add("is-resizing");
      const move = (moved) => setWidth(startWidth + moved.clientX - startX);
      const stop = () => {
        handle.removeEventListener("pointermove", move);
        table.classList.remove("is-resizing");
        saveWidths(table);
      };
      handle.addEventListener("pointermove", move);
      handle.addEventListener("pointerup", stop, { once: true });
    });
    handle.addEventListener("click", (event) => event.preventDefault());
    handle.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -WIDTH_STEP, ArrowRight: WIDTH_STEP }[event.key];
      if (step) {
        event.preventDefault();
        hold();
        setWidth(header.getBoundingClientRect().width + step);
        saveWidths(table);
      }
    });
    header.append(handle);
  }
}

function setUpResults(results, swapped = false) {
  if (!results) {
    return;
  }
  if (swapped) {
    announce(results);
  }
  loadCount(results, swapped);
  setUpResizing(results);
}

// -- the column chooser --------------------------------------------------------------------
function refreshMoves(list) {
  const items = Array.from(list.querySelectorAll("[data-chooser-item]"));
  items.forEach((item, index) => {
    item.querySelector("[data-move=up]").disabled = index === 0;
    item.querySelector("[data-move=down]").disabled = index === items.length - 1;
  });
}

function announceMove(chooser, item) {
  const status = chooser.querySelector("[data-chooser-status]");
  const items = Array.from(item.parentElement.children);
  const label = item.querySelector("label").textContent.trim();
  if (status) {
    status.textContent = `${label} moved to position ${items.indexOf(item) + 1} of ${items.length}.`;
  }
}

function setUpChooser(root) {
  const chooser = root.querySelector("[data-column-chooser]");
  const list = chooser && chooser.querySelector("[data-chooser-list]");
  if (!list) {
    return;
  }
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move]");
    if (!button) {
      return;
    }
    event.preventDefault();
    const item = button.closest("[data-chooser-item]");
    const up = button.dataset.move === "up";
    const other = up ? item.previousElementSibling : item.nextElementSibling;
    if (!other) {
      return;
    }
    if (up) {
      other.before(item);
    } else {
      other.after(item);
    }
    refreshMoves(list);
    (button.disabled ? item.querySelector(`[data-move=${up ? "down" : "up"}]`) : button).focus();
    announceMove(chooser, item);
  });
  let dragged = null;
  for (const item of list.querySelectorAll("[data-chooser-item]")) {
    item.draggable = true;
  }
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("[data-chooser-item]");
    if (dragged) {
      dragged.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
    }
  });
  list.addEventListener("dragover", (event) => {
    const target = event.target.closest("[data-chooser-item]");
    if (!dragged || !target || target === dragged) {
      return;
    }
    event.preventDefault();
    for (const each of list.querySelectorAll(".is-drop-target")) {
      each.classList.remove("is-drop-target");
    }
    target.classList.add("is-drop-target");
  });
  list.addEventListener("drop", (event) => {
    const target = event.target.closest("[data-chooser-item]");
    if (!dragged || !target || target === dragged) {
      return;
    }
    event.preventDefault();
    const after = event.clientY > target.getBoundingClientRect().top + target.offsetHeight / 2;
    if (after) {
      target.after(dragged);
    } else {
      target.before(dragged);
    }
    refreshMoves(list);
    announceMove(chooser, dragged);
  });
  list.addEventListener("dragend", () => {
    for (const each of list.querySelectorAll(".is-drop-target, .is-dragging")) {
      each.classList.remove("is-drop-target", "is-dragging");
    }
    dragged = null;
  });
}

// -- the filter panel's "add a filter" row -------------------------------------------------
function setUpAddFilter(root) {
  const row = root.querySelector("[data-filter-add]");
  if (!row) {
    return;
  }
  const field = row.querySelector("[data-filter-field]");
  const operator = row.querySelector("[data-filter-op]");
  const words = new Map(Array.from(operator.options).map((option) => [option.value, option.textContent]));
  const offer = () => {
    const chosen = field.selectedOptions[0];
    const names = chosen && chosen.dataset.operators ? chosen.dataset.operators.split(",") : Array.from(words.keys()).filter(Boolean);
    operator.replaceChildren(
      ...["", ...names].map((name) => new Option(words.get(name) || name, name)),
    );
  };
  field.addEventListener("change", offer);
  offer();
}

function setUpConfirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
}

// -- panels fetched when first opened ------------------------------------------------------
function setUpPanel(root) {
  setUpChooser(root);
  setUpAddFilter(root);
  setUpConfirmations(root);
}

function setUpPanels(root) {
  setUpPanel(root);
  for (const panel of root.querySelectorAll("details[data-panel]")) {
    let loading = false;
    panel.addEventListener("toggle", async () => {
      const placeholder = panel.querySelector("[data-panel-body][data-url]");
      if (!panel.open || !placeholder || loading) {
        return;
      }
      loading = true;
      try {
        const response = await fetch(`${placeholder.dataset.url}${window.location.search}`, {
          headers: { Accept: "text/html" },
        });
        if (response.ok) {
          const template = document.createElement("template");
          template.innerHTML = await response.text(); // our own escaped HTML fragment
          const body = template.content.firstElementChild;
          placeholder.replaceWith(body);
          setUpPanel(body);
        }
      } catch (error) {
        // Offline or the server is away: the panel's link still reloads the page with it.
      }
      loading = false;
    });
  }
}

if (screen) {
  window.history.replaceState({ list: true }, "", window.location.href);
  setUpSearch();
  setUpPaging();
  setUpResults(screen.querySelector("[data-list-results]"));
  setUpPanels(screen);
}
