// The reminder forms start in the clinic's time zone; a phone elsewhere reports its own,
// which is chosen instead when the patient has not picked one yet.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll('select[data-phone-zone="guess"]').forEach(function (select) {
    var known = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (known) {
      select.value = zone;
    }
  });
})();
