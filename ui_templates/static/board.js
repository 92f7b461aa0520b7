// The board screen's enhancements. Without them every card links to its record, its
// "Move" form moves it (the page comes back with what happened) and "Show more" opens a
// column's next cards as a page. With them:
// - a card ([data-card][draggable]) dragged onto another column moves there at once and
//   is saved by posting its move form with that column; a refused move (a validation
//   rule's message, no right to edit it, someone changed it meanwhile) puts the card
//   back where it was and shows why;
// - the move form (the keyboard way: Tab to "Move", pick a column, press Move) posts in
//   place the same way, the focus staying on the moved card;
// - "Show more" fetches the column's next cards and appends them;
// - the columns' counts and sums arrive after the page ([data-totals-url]), as the
//   list's count does: counting is a scan of every listed record, which the cards
//   never wait for.
// Each outcome is announced in the page's live region.

const FRAGMENT = "X-Trellis-Fragment";
const board = document.querySelector("[data-board]");

function announce(text) {
  const status = board.querySelector("[data-board-announce]");
  status.textContent = "";
  window.setTimeout(() => { status.textContent = text; }, 50);
}

function showError(text) {
  const alert = board.querySelector("[data-board-error]");
  alert.textContent = text;
  alert.hidden = !text;
}

function columnOf(value) {
  return Array.from(board.querySelectorAll("[data-column]")).find((c) => c.dataset.value === value);
}

function columnLabel(column) {
  return column.querySelector(".board-column-title").textContent.trim();
}

function cardName(card) {
  return card.querySelector(".board-card-title").textContent.trim();
}

function place(card, column) {
  const list = column.querySelector("[data-cards]");
  list.prepend(card);
  refreshEmpty(column);
}

function refreshEmpty(column) {
  const empty = column.querySelector("[data-column-empty]");
  const hasCards = column.querySelector("[data-card]") !== null;
  if (empty) { empty.hidden = hasCards; }
}

function updateTotals(columns) {
  for (const each of columns) {
    const column = columnOf(each.value);
    if (!column) { continue; }
    column.querySelector("[data-column-count]").textContent = String(each.count);
    const total = column.querySelector("[data-column-total]");
    if (total && each.total !== null) { total.textContent = each.total; }
    column.querySelector("[data-column-totals]").hidden = false;
  }
  board.querySelector("[data-totals-link]")?.remove();
}

// A move answers with the totals after it: newer than a load still on its way.
let movedMeanwhile = false;

async function loadTotals() {
  const url = board.dataset.totalsUrl;
  if (!url) { return; }
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (response.ok && Array.isArray(body.columns) && !movedMeanwhile) { updateTotals(body.columns); }
  } catch {
    // The totals are a courtesy: the board works without them ("Count the columns").
  }
}

// Post the card's move form with ``value``; the card is already in its new column and
// goes back to ``from`` (before ``next``) when the move is refused.
async function save(card, value, from, next) {
  const form = card.querySelector("[data-move-form]");
  const body = new FormData(form);
  body.set("value", value);
  showError("");
  let answer;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { Accept: "application/json", "X-CSRF-Token": body.get("csrf_token") },
    });
    answer = await response.json();
  } catch {
    answer = { ok: false, error: "The move could not be saved; check your connection and try again." };
  }
  const target = columnOf(value);
  if (!answer.ok) {
    from.querySelector("[data-cards]").insertBefore(card, next && next.parentNode ? next : null);
    refreshEmpty(from);
    refreshEmpty(target);
    form.querySelector("select").value = from.dataset.value;
    const message = `${cardName(card)} was not moved. ${answer.error}`;
    showError(message);
    announce(message);
    return false;
  }
  card.dataset.version = String(answer.version);
  form.querySelector("input[name=version]").value = String(answer.version);
  form.querySelector("select").value = value;
  movedMeanwhile = true;
  updateTotals(answer.columns);
  announce(`${cardName(card)} moved to ${columnLabel(target)}.`);
  return true;
}

function move(card, value) {
  const from = card.closest("[data-column]");
  const target = columnOf(value);
  if (!target || target === from) { return; }
  const next = card.nextElementSibling;
  place(card, target);
  return save(card, value, from, next);
}

// -- dragging -------------------------------------------------------------------------------
let dragged = null;

board.addEventListener("dragstart", (event) => {
  const card = event.target.closest?.("[data-card][draggable=true]");
  if (!card) { return; }
  dragged = card;
  card.classList.add("is-dragging");
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", card.dataset.id);
});

board.addEventListener("dragend", () => {
  dragged?.classList.remove("is-dragging");
  for (const column of board.querySelectorAll(".is-drop-target")) {
    column.classList.remove("is-drop-target");
  }
  dragged = null;
});

board.addEventListener("dragover", (event) => {
  const column = event.target.closest?.("[data-column]");
  if (!dragged || !column) { return; }
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  for (const other of board.querySelectorAll(".is-drop-target")) {
    if (other !== column) { other.classList.remove("is-drop-target"); }
  }
  column.classList.add("is-drop-target");
});

board.addEventListener("drop", (event) => {
  const column = event.target.closest?.("[data-column]");
  if (!dragged || !column) { return; }
  event.preventDefault();
  column.classList.remove("is-drop-target");
  move(dragged, column.dataset.value);
});

// -- the move form (keyboard) -------------------------------------------------------------
board.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-move-form]");
  if (!form) { return; }
  event.preventDefault();
  const card = form.closest("[data-card]");
  const value = form.querySelector("select").value;
  form.closest("details").open = false;
  if (card.closest("[data-column]").dataset.value === value) { return; }
  await move(card, value);
  card.querySelector(".board-move-button").focus();
});

// -- more cards -----------------------------------------------------------------------------
board.addEventListener("click", async (event) => {
  const link = event.target.closest("[data-more-link]");
  if (!link) { return; }
  event.preventDefault();
  const response = await fetch(link.href, { headers: { [FRAGMENT]: "cards" } });
  if (!response.ok) {
    window.location.assign(link.href);
    return;
  }
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  const item = link.closest("[data-more]");
  const first = template.content.querySelector("[data-card]");
  item.replaceWith(template.content);
  announce("More cards loaded.");
  first?.querySelector("a")?.focus();
});

loadTotals();
