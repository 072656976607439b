// The builder saves as the therapist works: a second after the typing stops (at once
// after a choice or on leaving a field), the plan form is posted to the autosave URL,
// which answers in JSON and leaves the plan as it is on screen (focus and caret stay).
// One save is sent at a time, each with everything typed so far, so an older save
// never lands after a newer one. "Preview handout" saves what is pending first;
// leaving the page with edits not saved asks first. Without JavaScript none of this
// runs: the buttons post the whole plan, "Preview handout" included.
(function () {
  "use strict";
  const DELAY = 1000;
  // Not part of the saved plan: the templates box's own fields, and "Remove", which
  // takes effect with the next button (the plan is redrawn without the exercise then).
  const NOT_SAVED = /^(template|template_name)$|-DELETE$/;

  let edits = 0; // Edits made since the page loaded.
  let sent = 0; // Edits included in the last save sent.
  let saved = 0; // Edits included in the last save the server kept.
  let timer = null;
  let inflight = null;
  let submitting = null; // The edits a full post of the plan (htmx) carries.
  // Fields changed while a full post is on its way (name -> value): the plan is redrawn
  // from its answer, so they are put back into the new plan and saved from there. A save
  // sent meanwhile would carry the old plan (an order, an advice) back over the post's.
  let during = null;

  function form() {
    return document.getElementById("plan-form");
  }

  function say(text) {
    const status = document.getElementById("autosave-status");
    if (status && status.textContent !== text) status.textContent = text;
  }

  function tracked(el) {
    return (
      el && el.form && el.form === form() && el.name && !NOT_SAVED.test(el.name) &&
      el.type !== "submit" && el.type !== "button"
    );
  }

  function body(plan) {
    const data = new FormData(plan);
    Array.from(data.keys()).forEach(function (key) {
      if (NOT_SAVED.test(key)) data.delete(key);
    });
    return data;
  }

  function answer(response) {
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected || type.indexOf("application/json") !== 0) {
      // The sign-in page: the session ended (idle too long).
      return { saved: false, reason: "you have been signed out. Sign in again in another tab." };
    }
    return response.json();
  }

  // Sends what is typed now, after the save already on its way (if any).
  function save() {
    clearTimeout(timer);
    timer = null;
    if (during) return Promise.resolve(); // Saved once the redrawn plan is in.
    if (inflight) {
      return inflight.then(function () {
        return edits > sent ? save() : null;
      });
    }
    const plan = form();
    const status = document.getElementById("autosave-status");
    if (!plan || !status || edits === sent) return Promise.resolve();
    const upTo = edits;
    sent = edits;
    say("Saving…");
    inflight = fetch(status.dataset.autosaveUrl, {
      method: "POST",
      body: body(plan),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      keepalive: true,
    })
      .then(answer)
      .then(function (result) {
        if (result.saved) {
          saved = Math.max(saved, upTo);
          showDoses(result.doses || {});
          report();
        } else {
          say("Not saved: " + result.reason);
        }
      })
      .catch(function () {
        sent = Math.min(sent, saved); // Send it again with the next edit or flush.
        say("Not saved: the server could not be reached. Your edits are still here.");
      })
      .finally(function () {
        inflight = null;
      });
    return inflight;
  }

  // The line under each exercise's fields says its dose as saved.
  function showDoses(doses) {
    document.querySelectorAll("#plan-form [data-dose]").forEach(function (line) {
      const words = doses[line.dataset.dose];
      if (words !== undefined && line.textContent !== words) line.textContent = words;
    });
  }

  function report() {
    if (edits === saved) say("All changes saved");
  }

  // An exercise's field is found again by the exercise (its item id), not its place:
  // the post may have moved it ("items-1-side" before, "items-0-side" after).
  const ITEM_FIELD = /^items-(\d+)-(.+)$/;

  function where(el) {
    const item = ITEM_FIELD.exec(el.name);
    const id = item && el.form.elements.namedItem("items-" + item[1] + "-id");
    return id ? "item:" + id.value + ":" + item[2] : el.name;
  }

  function found(plan, key) {
    if (key.indexOf("item:") !== 0) return plan.elements.namedItem(key);
    const parts = key.split(":");
    const id = Array.from(plan.querySelectorAll('input[name$="-id"]')).find(function (el) {
      return ITEM_FIELD.test(el.name) && el.value === parts[1];
    });
    return id && plan.elements.namedItem(id.name.replace(/-id$/, "-" + parts.slice(2).join(":")));
  }

  function valueOf(el) {
    return el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
  }

  function edited(event, now) {
    if (!tracked(event.target)) return;
    if (during) {
      during.set(where(event.target), valueOf(event.target));
      return;
    }
    edits += 1;
    clearTimeout(timer);
    timer = setTimeout(save, now ? 0 : DELAY);
  }

  document.addEventListener("input", function (event) {
    // A choice (a select, a box, a date picked) is saved at once; typing after a pause.
    const el = event.target;
    const typed = el.tagName === "TEXTAREA" || /^(text|number|search)$/.test(el.type);
    edited(event, !typed);
  });
  document.addEventListener("change", function (event) {
    edited(event, true);
  });
  document.addEventListener("focusout", function (event) {
    if (timer && tracked(event.target)) save();
  });

  // A full post of the plan (a button, a drop) carries every edit itself; it waits
  // for a save already on its way, so that save cannot land after it.
  document.addEventListener("htmx:confirm", function (event) {
    if (event.detail.elt !== form() || !inflight) return;
    event.preventDefault();
    inflight.then(function () {
      event.detail.issueRequest(true);
    });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt !== form()) return;
    clearTimeout(timer);
    timer = null;
    submitting = edits;
    during = new Map();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt !== form() || submitting === null) return;
    const carried = submitting;
    submitting = null;
    if (!event.detail.successful) {
      restore(); // Nothing is redrawn: the fields still show what was typed.
      return;
    }
    // Should no plan be drawn from this answer after all, the typing is not held back.
    setTimeout(restore, 2000);
    const leaving = event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Redirect");
    const plan = document.getElementById("plan");
    if (!leaving && plan && plan.querySelector(".is-invalid, .plan-item.border-danger")) {
      say("Not saved: please correct the highlighted fields.");
      return;
    }
    sent = Math.max(sent, carried);
    saved = Math.max(saved, carried);
    // What was typed meanwhile is saved once the plan is redrawn: not "all saved" yet.
    if (during && during.size) say("Saving…");
    else report();
  });

  // The redrawn plan is in: what was typed during the post goes back into it, and is saved.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "plan") return;
    restore();
  });

  function restore() {
    const typed = during;
    during = null;
    const plan = form();
    if (!typed || !typed.size || !plan) return;
    typed.forEach(function (value, key) {
      const el = found(plan, key);
      if (!el || el instanceof RadioNodeList) return;
      if (el.type === "checkbox") el.checked = value;
      else el.value = value;
    });
    edits += 1;
    save();
  }

  // "Preview handout": the tab opens now (a tab opened later would be a blocked
  // pop-up), and is sent to the handout once everything typed is saved.
  document.addEventListener(
    "click",
    function (event) {
      const button = event.target.closest && event.target.closest('button[name="preview"]');
      if (!button || button.form !== form()) return;
      event.preventDefault();
      event.stopPropagation();
      const tab = window.open("", "_blank");
      save()
        .then(function () {
          return edits > saved ? save() : null;
        })
        .then(function () {
          if (edits === saved) {
            if (!tab) {
              window.location.assign(button.dataset.previewUrl);
              return;
            }
            tab.opener = null;
            tab.location.replace(button.dataset.previewUrl);
            return;
          }
          if (tab) tab.close();
          showProblems();
        });
    },
    true
  );

  // The plan posted in full, so the refused fields are marked as after any button.
  function showProblems() {
    const plan = form();
    const marker = plan && plan.querySelector("[data-reorder]");
    if (!plan || !marker) return;
    // Off the preview button first: htmx would send it as the pressed button.
    const heading = document.getElementById("plan-heading");
    if (heading) heading.focus();
    marker.disabled = false;
    plan.requestSubmit();
  }

  window.addEventListener("beforeunload", function (event) {
    if (submitting !== null || edits === saved) return;
    save(); // Saved still if the therapist stays; asked first either way.
    event.preventDefault();
    event.returnValue = "";
  });
})();
