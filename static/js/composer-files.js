// Drag-and-drop onto the composer's file picker (progressive enhancement: the file input works
// alone). Dropped files go into the input, and a note says at once when they break the
// channel's limits (the server checks again).
(function () {
  "use strict";
  function box(target) {
    var form = target.closest && target.closest("#composer");
    return form ? form.querySelector(".composer-files") : null;
  }
  function check(files, area) {
    var note = area.querySelector(".files-note");
    var max = parseInt(area.getAttribute("data-max-bytes"), 10);
    var count = parseInt(area.getAttribute("data-max-count"), 10);
    var problems = [];
    if (files.length > count) problems.push(area.getAttribute("data-too-many") || ("max " + count));
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > max) problems.push(files[i].name + " > " + Math.round(max / 1048576) + " MB");
    }
    note.textContent = problems.join("; ");
  }
  document.addEventListener("dragover", function (event) {
    var area = box(event.target);
    if (!area) return;
    event.preventDefault();
    area.classList.add("dragging");
  });
  document.addEventListener("dragleave", function (event) {
    var area = box(event.target);
    if (area) area.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    var area = box(event.target);
    if (!area || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    area.classList.remove("dragging");
    var input = area.querySelector("input[type=file]");
    input.files = event.dataTransfer.files;
    check(input.files, area);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".composer-files input[type=file]")) {
      check(event.target.files, box(event.target));
    }
  });
})();
