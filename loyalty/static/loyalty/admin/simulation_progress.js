// A simulation running on the background workers: its progress bar follows the run, and the
// page shows the answer once it is done (or why it failed).
(function () {
  "use strict";
  var section = document.getElementById("simulation-progress");
  if (!section) {
    return;
  }
  var bar = section.querySelector("progress");
  function poll() {
    fetch(section.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        bar.value = state.progress;
        if (state.status === "done" || state.status === "failed") {
          window.location.assign(section.dataset.answerUrl);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
