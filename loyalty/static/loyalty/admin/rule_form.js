// The rule form shows only the fields of the chosen kind (a voucher's threshold and reward,
// a message's template, a cap for cashback and points), as the kind is picked. Fields stay
// in the page, so the server's validation of a field that does not belong still answers.
"use strict";
(function () {
  function start() {
    const kind = document.getElementById("id_kind");
    if (!kind || !kind.dataset.fieldsOfKind) return;
    const kindsOf = JSON.parse(kind.dataset.fieldsOfKind);
    function show() {
      for (const [field, kinds] of Object.entries(kindsOf)) {
        const row = document.querySelector(".form-row.field-" + field) ||
          document.querySelector(".field-" + field);
        if (!row) continue;
        row.hidden = kind.value !== "" && !kinds.includes(kind.value);
      }
    }
    kind.addEventListener("change", show);
    show();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
