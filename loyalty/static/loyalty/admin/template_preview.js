// A message template previewed with sample data while it is typed: placeholders filled in,
// an unknown one ({nome}, {cashbak}) pointed out with the valid ones, as the server will
// refuse it on save. The texts come translated from the page (#template-preview-config).
"use strict";
(function () {
  // As the server reads them (Python's \w is Unicode): {nóme} is a placeholder too.
  const PLACEHOLDER = /\{([\p{L}\p{N}_]+)\}/gu;
  function start() {
    const config = document.getElementById("template-preview-config");
    const body = document.getElementById("id_body");
    const subject = document.getElementById("id_subject");
    const out = document.getElementById("template-live-preview");
    if (!config || !body || !out) return;
    const { sample, unknownLabel, validLabel } = JSON.parse(config.textContent);
    const fill = (text) => text.replace(PLACEHOLDER, (whole, name) => (Object.hasOwn(sample, name) ? sample[name] : whole));
    function render() {
      const texts = [subject ? subject.value : "", body.value];
      const unknown = new Set();
      for (const text of texts) for (const match of text.matchAll(PLACEHOLDER)) {
        if (!Object.hasOwn(sample, match[1])) unknown.add("{" + match[1] + "}");
      }
      out.querySelector(".preview-subject").textContent = fill(texts[0]);
      out.querySelector(".preview-body").textContent = fill(texts[1]);
      const problems = out.querySelector(".preview-errors");
      if (unknown.size) {
        problems.textContent = unknownLabel + " " + [...unknown].join(", ") + ". " + validLabel + " " +
          Object.keys(sample).map((name) => "{" + name + "}").join(", ") + ".";
        problems.style.display = "";
      } else {
        problems.textContent = "";
        // Not `hidden`: the admin's .errornote style would show it anyway.
        problems.style.display = "none";
      }
    }
    body.addEventListener("input", render);
    if (subject) subject.addEventListener("input", render);
    render();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
