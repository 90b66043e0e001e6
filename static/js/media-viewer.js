// Thumbnails in the thread open in the <dialog id="media-viewer"> (keyboard: Enter on the
// focused thumbnail opens, Esc closes and focus returns to the thumbnail). Without this file a
// thumbnail is a plain link to the image. No inline script: the page's CSP forbids it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-viewer]");
    var dialog = document.getElementById("media-viewer");
    if (!link || !dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    var img = document.getElementById("media-viewer-img");
    var alt = document.getElementById("media-viewer-alt");
    img.src = link.getAttribute("data-viewer");
    img.alt = link.getAttribute("data-alt") || "";
    alt.textContent = link.getAttribute("data-alt") || "";
    alt.hidden = !alt.textContent;
    dialog.returnFocusTo = link;
    dialog.showModal();
  });
  document.addEventListener(
    "close",
    function (event) {
      var dialog = event.target;
      if (dialog && dialog.id === "media-viewer" && dialog.returnFocusTo) {
        dialog.returnFocusTo.focus();
        document.getElementById("media-viewer-img").src = "";
      }
    },
    true
  );
})();
