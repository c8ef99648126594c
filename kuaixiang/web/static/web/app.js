// kuaixiang web UI: the few behaviours Bootstrap and htmx do not give for free.
(function () {
  "use strict";
  // "Add row" on key/value lists: clone the last row with empty inputs.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kx-add-row]");
    if (!button) return;
    var list = document.querySelector(button.getAttribute("data-kx-add-row"));
    if (!list || !list.lastElementChild) return;
    var row = list.lastElementChild.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.classList.remove("is-invalid");
    });
    list.appendChild(row);
    row.querySelector("input").focus();
  });
})();
