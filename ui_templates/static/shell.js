// The app shell's enhancements. The markup works without them: menus are <details>,
// search is a GET form and the navigation is a list of links. With them:
// - on a phone the navigation folds behind the Menu button ([data-nav-toggle]);
// - one menu ([data-menu]) is open at a time, and Escape or a click outside closes it;
// - "/" moves the focus to the search box ([data-search-input]), as in most web apps;
// - the Recent menu ([data-recent-menu]) fetches its list when it first opens, in place
//   of its link to the recent records page.

const root = document.documentElement;
root.classList.add("js");

function setUpNavigationToggle() {
  const toggle = document.querySelector("[data-nav-toggle]");
  const navigation = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!toggle || !navigation) {
    return;
  }
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    navigation.classList.toggle("is-open", open);
  });
}

function setUpMenus() {
  const menus = Array.from(document.querySelectorAll("details[data-menu]"));
  for (const menu of menus) {
    menu.addEventListener("toggle", () => {
      if (menu.open) {
        for (const other of menus) {
          if (other !== menu) {
            other.open = false;
          }
        }
      }
    });
  }
  document.addEventListener("click", (event) => {
    for (const menu of menus) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") {
      return;
    }
    for (const menu of menus) {
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    }
  });
}

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"));
}

function setUpSearchShortcut() {
  const search = document.querySelector("[data-search-input]");
  if (!search) {
    return;
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });
}

function setUpRecentMenu() {
  const menu = document.querySelector("details[data-recent-menu]");
  const list = menu && menu.querySelector("[data-recent-list]");
  if (!list) {
    return;
  }
  let loaded = false;
  menu.addEventListener("toggle", async () => {
    if (!menu.open || loaded) {
      return;
    }
    loaded = true;
    try {
      const response = await fetch(menu.dataset.url, { headers: { Accept: "text/html" } });
      if (response.ok) {
        list.innerHTML = await response.text(); // our own escaped HTML fragment
        return;
      }
    } catch (error) {
      // Offline or the server is away: the link to the recent records page stays.
    }
    loaded = false;
  });
}

setUpNavigationToggle();
setUpRecentMenu();
setUpMenus();
setUpSearchShortcut();
