// The builder's library: where a fine pointer (a mouse, a trackpad) is available, a
// library card can be dragged onto the plan, which adds it: the drop presses the
// card's own "Add to plan" button, so the server does exactly what the button does.
// The buttons stay for keyboard and touch; without a fine pointer nothing changes.
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(pointer: fine)").matches) return;

  let button = null; // the Add button of the card being dragged

  function cards() {
    return document.querySelectorAll("#library-results .exercise-card");
  }

  function markDraggable() {
    cards().forEach(function (card) {
      if (card.querySelector('button[name="add_exercise"]')) card.draggable = true;
    });
  }

  function plan() {
    return document.getElementById("plan");
  }

  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest("#library-results .exercise-card");
    if (!card) return;
    button = card.querySelector('button[name="add_exercise"]');
    if (!button) return;
    event.dataTransfer.effectAllowed = "copy";
    // Some browsers start no drag without data.
    event.dataTransfer.setData("text/plain", card.querySelector("h2").textContent.trim());
    card.classList.add("dragging");
    const target = plan();
    if (target) target.classList.add("drop-target");
  });

  document.addEventListener("dragover", function (event) {
    if (!button || !plan() || !plan().contains(event.target)) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "copy";
  });

  document.addEventListener("drop", function (event) {
    if (!button || !plan() || !plan().contains(event.target)) return;
    event.preventDefault();
    // A press of the card's button (it belongs to the plan form: form="plan-form"), so
    // htmx sends it as the submitter, and the focus and the button's words follow as
    // after a real press.
    button.focus();
    button.click();
  });

  document.addEventListener("dragend", function () {
    document.querySelectorAll("#library-results .exercise-card.dragging").forEach(function (c) {
      c.classList.remove("dragging");
    });
    const target = plan();
    if (target) target.classList.remove("drop-target");
    button = null;
  });

  // The library's results are redrawn by the live search: mark the new cards too.
  document.addEventListener("htmx:afterSettle", markDraggable);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markDraggable);
  } else {
    markDraggable();
  }
})();
