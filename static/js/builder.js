// The prescription builder: drag and drop to reorder the plan's exercises.
// Keyboard users have the Move up / Move down buttons; without JavaScript the
// page works through plain form posts. After a drop, the hidden order fields
// follow the new order and the plan form is submitted (htmx re-renders it).
(function () {
  "use strict";
  let dragged = null;

  function items() {
    return Array.from(document.querySelectorAll("#plan-form .plan-item"));
  }

  document.addEventListener("dragstart", function (event) {
    const item = event.target.closest && event.target.closest(".plan-item");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
  });

  document.addEventListener("dragover", function (event) {
    const over = event.target.closest && event.target.closest(".plan-item");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    items().forEach(function (item, index) {
      const order = item.querySelector('input[name$="-order"]');
      if (order) order.value = index;
    });
    // The disabled "reorder" field marks this post as a reorder (not "Save draft");
    // the re-rendered plan comes back with it disabled again.
    const form = document.getElementById("plan-form");
    const marker = form && form.querySelector("[data-reorder]");
    if (!form || !marker) return;
    marker.disabled = false;
    form.requestSubmit();
  });
})();
