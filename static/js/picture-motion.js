// A moving exercise drawing plays until it is paused (WCAG 2.2.2: anything that moves
// for more than five seconds can be paused). Each one gets a button under it; pausing
// takes the moving source away, so the picture shows the still drawing (the start as a
// dashed outline, the movement as an arrow), as a handout prints it. Readers who asked
// for less motion never see it move, so they get no button.
(function () {
  "use strict";
  var calm = window.matchMedia("(prefers-reduced-motion: reduce)");

  function wire(picture) {
    var source = picture.querySelector("source");
    var img = picture.querySelector("img");
    if (!source || !img || calm.matches) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = picture.dataset.buttonClass || "motion-toggle";
    var label = function (verb) {
      button.textContent = verb + " the movement";
      if (picture.dataset.name) {
        button.setAttribute("aria-label", verb + " the movement: " + picture.dataset.name);
      }
    };
    label("Pause");
    button.addEventListener("click", function () {
      var pausing = source.parentNode === picture;
      if (pausing) {
        picture.removeChild(source);
      } else {
        picture.insertBefore(source, img);
      }
      // The picture chooses its source again when the image element's src is set.
      img.src = img.getAttribute("src");
      label(pausing ? "Play" : "Pause");
    });
    picture.insertAdjacentElement("afterend", button);
  }

  document.querySelectorAll("picture[data-moving]").forEach(wire);
})();
