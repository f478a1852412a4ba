// Journey board: drag an account card to another phase column. The drop only fills the card's own
// "Mover para" form and submits it, so htmx posts it and swaps the whole board (counts included);
// without JavaScript the same form posts normally.
(function () {
  var dragged = null;

  function column(el) {
    return el && el.closest ? el.closest(".cs-col") : null;
  }

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".cs-card");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-account-id"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    document.querySelectorAll(".cs-col.drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (e) {
    var col = column(e.target);
    if (!col || !dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".cs-col.drop-target").forEach(function (el) {
      if (el !== col) el.classList.remove("drop-target");
    });
    col.classList.add("drop-target");
  });
  document.addEventListener("drop", function (e) {
    var col = column(e.target);
    if (!col || !dragged) return;
    e.preventDefault();
    col.classList.remove("drop-target");
    var card = dragged;
    dragged = null;
    card.classList.remove("is-dragging");
    if (column(card) === col) return;
    var form = card.querySelector("form.cs-move");
    form.querySelector('[name="phase"]').value = col.getAttribute("data-phase");
    card.classList.add("is-moving");
    form.requestSubmit();
  });
})();
