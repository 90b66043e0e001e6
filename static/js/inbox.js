// Webcare inbox behaviour: keyboard shortcuts, the live character counter, the typing flag for
// presence, canned-reply insertion, and keeping selection and checked rows across live swaps.
// No inline script and no eval anywhere (the Content-Security-Policy forbids both).
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Scripted pages hide the buttons that only a page without JavaScript needs.
  document.documentElement.classList.add("js");

  // Forms marked data-autosubmit apply as soon as a choice changes (their button stays for
  // use without JavaScript); an htmx form submits through htmx, a plain one reloads.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-autosubmit") || event.target.type === "text" ||
        event.target.type === "search") { return; }
    clearTimeout(filterTimer);
    submitForm(form);
  });
  // Typed filters (search, tag) apply after a pause in typing.
  var filterTimer = null;
  function submitForm(form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-autosubmit") ||
        (event.target.type !== "text" && event.target.type !== "search")) { return; }
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { submitForm(form); }, 400);
  });

  var selectedId = null;
  var checked = {};

  function rows() { return $all("#list tr.row"); }

  function markSelected() {
    var thread = $("#thread");
    if (thread) { selectedId = thread.getAttribute("data-ticket"); }
    rows().forEach(function (row) {
      row.classList.toggle("selected", row.getAttribute("data-id") === selectedId);
    });
  }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var index = list.findIndex(function (r) { return r.classList.contains("cursor"); });
    if (index < 0) { index = list.findIndex(function (r) { return r.getAttribute("data-id") === selectedId; }); }
    var next = Math.max(0, Math.min(list.length - 1, index + step));
    list.forEach(function (r) { r.classList.remove("cursor"); });
    list[next].classList.add("cursor");
    list[next].scrollIntoView({ block: "nearest" });
  }

  function openCursor() {
    var row = $("#list tr.row.cursor") || $("#list tr.row.selected");
    var link = row && $("a.open", row);
    if (link) { link.click(); }
  }

  function press(selector) {
    var el = $(selector);
    if (el) { el.click(); }
  }

  function focusComposer(mode) {
    var radio = $('#composer input[name="mode"][value="' + mode + '"]') ||
      (mode !== "note" ? $('#composer input[name="mode"]:not([value="note"])') : null);
    if (radio) { radio.checked = true; }
    var text = $("#reply-text");
    if (text) { text.focus(); }
  }

  function typingTarget(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function focusField(selector) {
    var field = $(selector);
    if (field) { field.focus(); }
  }

  // The send chord works inside the composer, where every other shortcut is ordinary typing.
  function sendChord(event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey) { return false; }
    var form = event.target.closest && event.target.closest("#composer");
    var send = form && $("button[data-send]", form);
    if (!send) { return false; }
    event.preventDefault();
    send.click();
    return true;
  }

  // Arrow keys go from the canned-reply search into its results and between them.
  function cannedArrows(event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return false; }
    var inSearch = event.target.id === "canned-q";
    if (!inSearch && !(event.target.classList && event.target.classList.contains("canned-item"))) { return false; }
    var items = $all("#canned-results .canned-item");
    if (!items.length) { return false; }
    var at = items.indexOf(event.target);
    var next = inSearch ? (event.key === "ArrowDown" ? 0 : -1) : at + (event.key === "ArrowDown" ? 1 : -1);
    event.preventDefault();
    if (next < 0) { $("#canned-q").focus(); } else { items[Math.min(next, items.length - 1)].focus(); }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (sendChord(event) || cannedArrows(event)) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typingTarget(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      // A choice in the ticket's tools (assign, intent) applies with Enter, like a text field.
      if (event.key === "Enter" && event.target.tagName === "SELECT" && event.target.form &&
          event.target.closest("#thread")) {
        event.preventDefault();
        submitForm(event.target.form);
      }
      return;
    }
    // Enter on a focused link or button activates it (a thumbnail opens the photo viewer),
    // it does not open the list's cursor ticket.
    if (event.key === "Enter" && event.target.closest && event.target.closest("a, button, summary")) {
      return;
    }
    var handled = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": openCursor(); break;
      case "c": press('#live button[data-key="c"]'); break;
      case "e": press('#live button[data-key="e"]'); break;
      case "r": focusComposer("public"); break;
      case "n": focusComposer("note"); break;
      case "t": focusField("#tag-input"); break;
      case "s": focusField("#snooze-until"); break;
      case "a": focusField("#assign-to"); break;
      case "i": focusField("#canned-q"); break;
      case "/": var search = $("#search"); if (search) { search.focus(); search.select(); } break;
      case "?": var help = $("#help"); if (help && !help.open) { help.showModal(); } break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest && target.closest('[data-action="help"]')) {
      var help = $("#help");
      if (help) { help.showModal(); }
      return;
    }
    var canned = target.closest && target.closest(".canned-item");
    if (canned) {
      var text = $("#reply-text");
      if (text) {
        var body = canned.getAttribute("data-body") || "";
        text.value = text.value ? text.value.replace(/\s*$/, "\n") + body : body;
        text.dispatchEvent(new Event("input", { bubbles: true }));
        text.focus();
      }
    }
  });

  // Characters used, counted as the platform counts them (reply-count.js, with the channel's
  // rule: X weighs URLs, emoji and CJK); the server's count is fetched after a pause and
  // decides before sending.
  var typingTimer = null;
  var countTimer = null;
  function updateCounter() {
    var form = $("#composer");
    var text = $("#reply-text");
    var counter = $("#counter");
    if (!form || !text || !counter) { return; }
    var limit = parseInt(form.getAttribute("data-limit"), 10);
    if (!limit) { return; }
    var used = window.webcareCount(
      window.webcareReplyText(text.value, form.getAttribute("data-signature")),
      form.getAttribute("data-count-rule"));
    counter.textContent = used + " / " + limit;
    counter.classList.toggle("over", used > limit);
  }

  document.addEventListener("input", function (event) {
    if (event.target.id !== "reply-text") { return; }
    updateCounter();
    var typing = $("#typing");
    if (typing) {
      typing.value = "1";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.value = "0"; }, 5000);
    }
    clearTimeout(countTimer);
    countTimer = setTimeout(function () {
      var form = $("#composer");
      var current = $("#reply-text");
      if (!form || !current || !window.htmx) { return; }
      // The text as it is now: after a send the composer is fresh and the count is 0.
      window.htmx.ajax("POST", form.getAttribute("data-count-url"), {
        source: "#reply-text", target: "#counter", swap: "outerHTML", values: { text: current.value }
      });
    }, 600);
  });

  // A send or a tag clears what was typed: a pending count must not bring the old figure
  // back, and a form marked data-reset-on-success empties once the server took the action
  // (it says so with its "inbox:changed" event; a refusal keeps the text to correct).
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "composer") { clearTimeout(countTimer); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "bulk-form") {
      var said = event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Trigger");
      if (event.detail.successful && said && said.indexOf("inbox:changed") >= 0) {
        // Done: the ticks go, or the next action would hit the same tickets again.
        checked = {};
        $all('#list input[name="ticket"]:checked').forEach(function (box) { box.checked = false; });
      }
      return;
    }
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-reset-on-success")) { return; }
    var xhr = event.detail.xhr;
    var trigger = xhr && xhr.getResponseHeader("HX-Trigger");
    if (event.detail.successful && trigger && trigger.indexOf("inbox:changed") >= 0) { elt.reset(); }
  });

  // Live swaps of the list must keep the checked rows and the selection.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "list") {
      checked = {};
      $all('#list input[name="ticket"]:checked').forEach(function (box) { checked[box.value] = true; });
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    $all('#list input[name="ticket"]').forEach(function (box) { if (checked[box.value]) { box.checked = true; } });
    markSelected();
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "list" && selectedId) {
      event.detail.parameters.t = selectedId;
    }
  });
  // The composer says before anyone types what sending will do: claim the ticket (nobody holds
  // it), reply (you hold it) or only add a note (a colleague holds it). The live head carries
  // the holder; it changes under the open composer when someone claims or assigns.
  function syncOwner() {
    var live = $("#live");
    var hint = $("#owner-hint");
    var send = $("#composer button[data-send]");
    var sendClose = $("#composer button[data-send-close]");
    if (!live || !hint || !send) { return; }
    var holder = live.getAttribute("data-holder");
    var mine = holder === hint.getAttribute("data-me");
    var other = holder && !mine;
    hint.textContent = !holder ? hint.getAttribute("data-text-free") :
      other ? hint.getAttribute("data-text-other").replace("%(name)s", live.getAttribute("data-holder-name")) : "";
    hint.hidden = !hint.textContent;
    $all('#composer input[data-public-mode]').forEach(function (radio) {
      radio.disabled = !!other;
      if (other) { radio.checked = false; }
    });
    var note = $('#composer input[name="mode"][value="note"]');
    if (other && note) { note.checked = true; }
    if (!other && note && note.checked && !$('#composer input[data-public-mode]:checked') && send.getAttribute("data-was-other")) {
      var first = $('#composer input[data-public-mode]');
      if (first) { first.checked = true; note.checked = false; }
    }
    if (other) { send.setAttribute("data-was-other", "1"); } else { send.removeAttribute("data-was-other"); }
    var noting = note && note.checked;
    send.textContent = noting ? send.getAttribute("data-label-note") :
      !holder ? send.getAttribute("data-label-claim") : send.getAttribute("data-label-reply");
    if (sendClose) {
      sendClose.hidden = !!other || noting;
      sendClose.textContent = !holder ? sendClose.getAttribute("data-label-claim") : sendClose.getAttribute("data-label-reply");
    }
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "mode" && event.target.closest("#composer")) { syncOwner(); }
  });
  document.addEventListener("htmx:afterSettle", syncOwner);
  document.addEventListener("DOMContentLoaded", syncOwner);

  // A table that scrolls sideways (a phone) can be scrolled with the arrow keys once focused.
  function scrollableTables() {
    $all("main table").forEach(function (table) {
      var scrolls = getComputedStyle(table).overflowX === "auto" && table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) { table.setAttribute("tabindex", "0"); }
      if (!scrolls && table.getAttribute("tabindex") === "0") { table.removeAttribute("tabindex"); }
    });
  }
  document.addEventListener("DOMContentLoaded", scrollableTables);
  window.addEventListener("resize", scrollableTables);
  document.addEventListener("DOMContentLoaded", markSelected);
})();
