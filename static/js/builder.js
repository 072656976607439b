// The prescription builder: drag and drop to reorder the plan's exercises, and the
// focus kept where the therapist was when htmx redraws the plan.
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

  // htmx replaces the whole plan after each action (move, remove, template, save), which
  // would drop the keyboard focus to the top of the page. Put it back on the same
  // button (a moved exercise's Move button follows it), or on the first field with an
  // error (so "Please correct the highlighted fields" shows the field), or else on the
  // plan's heading.
  let focused = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = document.getElementById("plan-form");
    if (!form || event.detail.elt !== form) return;
    const active = document.activeElement;
    focused = active && active.name ? { name: active.name, value: active.value } : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    // After the settle (htmx gives elements that keep their id their new classes then,
    // such as is-invalid). An outerHTML swap's target is the plan that was replaced.
    const plan = document.getElementById("plan");
    if (!plan || !event.detail.target || event.detail.target.id !== "plan") return;
    const invalid = plan.querySelector(".is-invalid");
    let next = invalid;
    if (!next && focused && focused.name !== "add_exercise") {
      next = Array.from(plan.querySelectorAll("[name]")).find(function (el) {
        return el.name === focused.name && el.value === focused.value && !el.disabled;
      });
      if (!next && focused.name === "move") {
        // The exercise reached the top or the bottom: its other Move button.
        const pk = focused.value.split(":")[0];
        next = plan.querySelector('[name="move"][value^="' + pk + ':"]:not([disabled])');
      }
      if (!next && focused.name === "swap") {
        // The item now holds the other exercise: its button the same way (one more step
        // harder), else the way back, else its first Move button.
        const parts = focused.value.split(":");
        next =
          plan.querySelector('[name="swap"][value^="' + parts[0] + ":" + parts[1] + ':"]') ||
          plan.querySelector('[name="swap"][value^="' + parts[0] + ':"]') ||
          plan.querySelector('[name="move"][value^="' + parts[0] + ':"]:not([disabled])');
      }
    }
    if (!next && focused && focused.name !== "add_exercise") {
      next = document.getElementById("plan-heading");
    }
    if (focused && focused.name === "add_exercise") {
      // The pressed Add button keeps the focus; it now looks like the others in the plan.
      // The library card's button (a "Recently used" one for the same exercise comes first).
      const pressed = document.querySelector(
        '#library-results .exercise-card button[name="add_exercise"][value="' + focused.value + '"]'
      );
      if (pressed) pressed.classList.replace("btn-success", "btn-outline-success");
    }
    focused = null;
    if (next) next.focus();
  });
})();
