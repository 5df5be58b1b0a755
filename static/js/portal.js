/* Triage Portal: keyboard shortcuts, row selection, action dialogs and toasts, on top of htmx.
 *
 * The server renders everything; this file only decides which item an action is for and
 * hands the request to htmx. Every shortcut clicks a visible (or keyboard-only) control
 * marked data-key, so a shortcut can never do what the page does not offer. */
(function () {
  "use strict";

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const state = { current: null, checked: new Set(), pending: null };

  // Texts a person reads come translated from the page (base.html's #portal-texts), in the viewer's
  // language; the English here is only what a page without them shows.
  function text(name, fallback, values = {}) {
    const box = document.getElementById("portal-texts");
    const found = (box && box.dataset[name]) || fallback;
    return found.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
  }

  // The browser's time zone, for people who saved none: the server shows their times in it.
  (function rememberTimeZone() {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && !document.cookie.split("; ").includes(`portal_tz=${zone}`)) {
      document.cookie = `portal_tz=${zone}; path=/; max-age=31536000; samesite=lax`;
    }
  })();

  // --- Toasts -------------------------------------------------------------------------------

  function toast(message, level = "ok") {
    const box = $("#toasts");
    if (!box || !message) return;
    const note = document.createElement("div");
    note.className = `toast toast-${level}`;
    note.setAttribute("role", level === "error" ? "alert" : "status");
    note.textContent = message; // text only: messages can quote item titles
    box.append(note);
    setTimeout(() => note.classList.add("leaving"), level === "error" ? 7000 : 3500);
    setTimeout(() => note.remove(), level === "error" ? 7600 : 4100);
  }

  document.addEventListener("toast", (event) => toast(event.detail.message, event.detail.level));

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
    const message = plain && xhr.status < 500 ? xhr.responseText : text("failed", "The portal could not do that (error {status}). Try again.", { status: xhr.status });
    const dialog = event.detail.elt.closest && event.detail.elt.closest("dialog[open]");
    if (dialog) showDialogError(dialog, message);
    toast(message, "error");
  });

  document.addEventListener("htmx:sendError", () => toast(text("unreachable", "The portal did not answer. Check your connection."), "error"));

  // A session that expired answers with the login page: go there instead of swapping it into a row.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const url = event.detail.xhr.responseURL;
    if (url && new URL(url).pathname === "/login/") {
      event.detail.shouldSwap = false;
      window.location.assign(`/login/?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
  });

  // --- Rows: highlight (j/k) and selection (x) ---------------------------------------------

  const rows = () => $$("#results tr.row");
  const currentRow = () => (state.current && document.getElementById(state.current)) || null;

  function highlight(row) {
    $$("#results tr.row.current").forEach((r) => r.classList.remove("current"));
    state.current = row ? row.id : null;
    if (!row) return;
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(currentRow());
    const next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(at + step, 0), all.length - 1);
    highlight(all[next]);
  }

  function setChecked(row, checked) {
    const box = $("input[name=ids]", row);
    if (!box) return;
    box.checked = checked;
    row.classList.toggle("checked", checked);
    checked ? state.checked.add(row.id) : state.checked.delete(row.id);
    updateBulkBar();
  }

  function toggleCurrent() {
    const row = currentRow();
    if (row) setChecked(row, !$("input[name=ids]", row).checked);
  }

  function clearSelection() {
    rows().forEach((row) => setChecked(row, false));
    state.checked.clear();
    updateBulkBar();
  }

  function updateBulkBar() {
    const bar = $("#bulk-form");
    if (!bar) return;
    const count = $$("#results input[name=ids]:checked").length;
    bar.hidden = count === 0;
    $("[data-bulk-count]", bar).textContent = count;
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("#results input[name=ids]")) setChecked(event.target.closest("tr"), event.target.checked);
  });

  document.addEventListener("click", (event) => {
    const row = event.target.closest("#results tr.row");
    if (row && !event.target.closest("a, button, input, label")) highlight(row);
    if (event.target.closest("[data-clear-selection]")) clearSelection();
  });

  // Re-rendered rows come back plain: give them back their highlight and checkbox.
  document.addEventListener("htmx:load", (event) => {
    const row = event.detail.elt;
    if (!(row instanceof HTMLTableRowElement)) return;
    if (row.id === state.current) row.classList.add("current");
    if (state.checked.has(row.id)) setChecked(row, true);
  });

  // A new page of results starts with nothing highlighted or selected.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "results" && event.detail.elt.id !== "results") return;
    state.current = null;
    state.checked.clear();
    updateBulkBar();
  });

  // A finished bulk action empties the selection (its rows came back out of band).
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful && event.detail.elt.id === "bulk-form") clearSelection();
  });

  // --- Actions and their dialogs ------------------------------------------------------------

  function act(key) {
    const bulk = $$("#results input[name=ids]:checked").length ? $("#bulk-form") : null;
    const scope = bulk || currentRow() || $("[data-scope=item]");
    if (!scope) return toast(text("pickFirst", "Pick an item first: j and k move, x selects."), "info");
    const control = $(`[data-key="${key}"]`, scope);
    if (!control) return;
    if (control.disabled) return toast(control.title || text("cannotChange", "You cannot change this item."), "error");
    control.click();
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-dialog]");
    if (!opener || opener.disabled) return;
    event.preventDefault();
    openDialog(opener);
  });

  function openDialog(opener) {
    const dialog = document.getElementById(`dlg-${opener.dataset.dialog}`);
    if (!dialog) return;
    const form = $("form", dialog);
    const bulk = opener.closest("#bulk-form");
    const row = opener.closest("tr.row");
    form.reset();
    hideDialogError(dialog);
    state.pending = {
      url: bulk ? bulk.getAttribute("hx-post") : opener.dataset.url,
      target: bulk ? null : row || $("#item-body"),
      ids: bulk ? $$("#results input[name=ids]:checked").map((box) => box.value) : [],
      render: opener.dataset.render || "",
    };
    $(".dlg-target", dialog).textContent = bulk ? `${state.pending.ids.length} items` : targetLabel(row);
    if (opener.dataset.owner !== undefined && form.owner) form.owner.value = opener.dataset.owner;
    dialog.showModal();
    const first = $("input:not([type=hidden]), select, textarea", form);
    if (first) first.focus();
  }

  function targetLabel(row) {
    const id = row ? $(".short-id", row) : $(".crumbs code");
    return id ? id.textContent : "";
  }

  function submitDialog(form) {
    const pending = state.pending;
    if (!pending) return;
    $$("input[data-extra]", form).forEach((input) => input.remove());
    const extra = { render: pending.render, action: pending.ids.length ? form.dataset.action : "" };
    Object.entries(extra).forEach(([name, value]) => value && addHidden(form, name, value));
    pending.ids.forEach((id) => addHidden(form, "ids", id));
    htmx.ajax("POST", pending.url, {
      source: form,
      target: pending.target || form,
      swap: pending.target ? "outerHTML" : "none",
    });
  }

  function addHidden(form, name, value) {
    const input = document.createElement("input");
    Object.assign(input, { type: "hidden", name, value });
    input.dataset.extra = "";
    form.append(input);
  }

  function showDialogError(dialog, message) {
    const box = $(".dlg-error", dialog);
    if (box) Object.assign(box, { textContent: message, hidden: false });
  }

  function hideDialogError(dialog) {
    const box = $(".dlg-error", dialog);
    if (box) box.hidden = true;
  }

  $$("dialog.dialog form[data-action]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitDialog(form);
    });
    form.addEventListener("htmx:afterRequest", (event) => {
      if (!event.detail.successful) return;
      form.closest("dialog").close();
      if (state.pending && state.pending.ids.length) clearSelection();
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
      // 1–5 pick a classification unless a text box has the focus.
      const choice = /^[1-9]$/.test(event.key) && !isTyping(event.target) && $$("input[name=classification]", form)[event.key - 1];
      if (choice) {
        event.preventDefault();
        choice.checked = true;
        choice.focus();
      }
    });
    // Choosing a value beside an ignore condition chooses that condition.
    $$(".condition", form).forEach((label) => label.addEventListener("input", () => ($("input[type=radio]", label).checked = true)));
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]")) event.target.closest("dialog").close();
    if (event.target.closest("[data-help]")) $("#help").showModal();
  });

  // --- The item page's own controls ---------------------------------------------------------

  document.addEventListener("click", (event) => {
    const range = event.target.closest("[data-range-set]");
    if (range) {
      const card = range.closest(".card");
      $(".chart", card).dataset.range = range.dataset.rangeSet;
      $$("[data-range-set]", card).forEach((b) => b.setAttribute("aria-pressed", String(b === range)));
    }
    const frames = event.target.closest("[data-toggle-frames]");
    if (frames) {
      const stack = frames.closest(".stack");
      const all = stack.classList.toggle("in-app-only") === false;
      frames.setAttribute("aria-pressed", String(all));
      frames.textContent = all ? frames.dataset.textMine : frames.dataset.textAll;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.matches(".comment-form textarea") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  // --- Keyboard -----------------------------------------------------------------------------

  function isTyping(element) {
    if (element.isContentEditable || element.tagName === "TEXTAREA" || element.tagName === "SELECT") return true;
    return element.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(element.type);
  }

  function openCurrent() {
    const row = currentRow();
    if (row) window.location.assign(row.dataset.href);
  }

  function focusSearch() {
    const search = $("#filters input[name=q]");
    if (search) search.focus();
  }

  const KEYS = {
    j: () => move(1),
    k: () => move(-1),
    x: toggleCurrent,
    o: openCurrent,
    Enter: openCurrent,
    "/": focusSearch,
    "?": () => $("#help") && $("#help").showModal(),
    Escape: () => (state.checked.size ? clearSelection() : highlight(null)),
    c: () => act("c"),
    t: () => act("t"),
    a: () => act("a"),
    i: () => act("i"),
    r: () => act("r"),
    u: () => act("u"),
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape" && event.target.matches("#filters input[name=q]")) event.target.blur();
      return;
    }
    if ($("dialog[open]")) return; // an open dialog has the keyboard
    if (event.key === "Enter" && event.target.closest("a, button, summary")) return;
    const handler = KEYS[event.key];
    if (!handler) return;
    event.preventDefault();
    handler();
  });
})();
