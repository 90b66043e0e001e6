// New arrivals in the inbox list: rows that the list's poll brings in are highlighted, the tab
// title counts those not yet seen ("(3) Inbox · Webcare") and, when the agent asked for it in
// their profile, a short chime plays (made here with the Web Audio API: no sound file).
// A row counts as seen once it has been on a visible screen for a few seconds, or is opened.
(function () {
  "use strict";

  var SEEN_AFTER = 6000; // ms on a visible screen
  var known = null;      // every ticket id the list has shown on this page
  var fresh = {};        // id -> true while the row is highlighted and not yet seen
  var timers = {};
  var polled = false;
  var baseTitle = document.title;
  var audio = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#list tr.row")); }
  function countFresh() { return Object.keys(fresh).length; }

  function showTitle() {
    var n = countFresh();
    document.title = n ? "(" + n + ") " + baseTitle : baseTitle;
  }

  function seen(id) {
    if (!fresh[id]) { return; }
    delete fresh[id];
    clearTimeout(timers[id]);
    delete timers[id];
    var row = document.getElementById("row-" + id);
    if (row) { row.classList.remove("arrived"); }
    showTitle();
  }

  // A highlighted row on screen, with the page visible, is seen after a few seconds.
  function watch() {
    rows().forEach(function (row) {
      var id = row.getAttribute("data-id");
      if (!fresh[id] || timers[id] || document.visibilityState !== "visible") { return; }
      var box = row.getBoundingClientRect();
      var onScreen = box.bottom > 0 && box.top < (window.innerHeight || 0) && box.height > 0;
      if (onScreen) { timers[id] = setTimeout(function () { delete timers[id]; seen(id); }, SEEN_AFTER); }
    });
  }

  function chime() {
    var inbox = document.querySelector(".inbox");
    if (!inbox || inbox.getAttribute("data-chime") !== "on") { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      if (audio.state === "suspended" && audio.resume) {
        var resumed = audio.resume();
        if (resumed && resumed.catch) { resumed.catch(function () {}); }
      }
      var now = audio.currentTime;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.setValueAtTime(880, now);
      tone.frequency.setValueAtTime(660, now + 0.09);
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.15, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.25);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(now);
      tone.stop(now + 0.3);
      inbox.setAttribute("data-chimed", String(parseInt(inbox.getAttribute("data-chimed") || "0", 10) + 1));
    } catch (e) {
      // No audio device or not allowed yet: the highlight and the title still tell.
    }
  }

  function remember(ids) { ids.forEach(function (id) { known[id] = true; }); }

  document.addEventListener("DOMContentLoaded", function () {
    baseTitle = document.title;
    known = {};
    remember(rows().map(function (r) { return r.getAttribute("data-id"); }));
    watch();
  });

  // Only the list's own poll brings arrivals; a filter or a page change shows other rows.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "list") { return; }
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    polled = !!(elt && elt.id === "list");
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!known) { return; }
    var ids = rows().map(function (r) { return r.getAttribute("data-id"); });
    var added = polled ? ids.filter(function (id) { return !known[id]; }) : [];
    polled = false;
    remember(ids);
    added.forEach(function (id) { fresh[id] = true; });
    rows().forEach(function (row) { row.classList.toggle("arrived", !!fresh[row.getAttribute("data-id")]); });
    if (added.length) { chime(); }
    showTitle();
    watch();
  });

  // The thread's title changes with the ticket opened: keep the count in front of it.
  document.addEventListener("htmx:pushedIntoHistory", function () {
    baseTitle = document.title.replace(/^\(\d+\) /, "");
    showTitle();
  });

  // Opening a row sees it.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#list tr.row");
    if (row) { seen(row.getAttribute("data-id")); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") {
      Object.keys(timers).forEach(function (id) { clearTimeout(timers[id]); delete timers[id]; });
    }
    watch();
  });
  document.addEventListener("scroll", watch, true);
})();
