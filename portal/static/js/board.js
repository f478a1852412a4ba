// Kanban board: drag a card to another column (HTML5 drag and drop) or use its "Mover para" form.
// Both post to the card's move URL; 200 answers the updated card, 422 answers the form of the stage's
// required fields, shown in a dialog until it is filled. Without JavaScript the forms post normally.
(function () {
  var board = document.querySelector("[data-board]");
  var dialog = document.getElementById("move-dialog");
  var dialogBody = document.getElementById("move-dialog-body");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');

  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });
  if (!board) return;

  var dragged = null;

  function column(stageId) {
    return board.querySelector('.board-col[data-stage-id="' + stageId + '"]');
  }

  function bump(col, delta) {
    var counter = col && col.querySelector("[data-count]");
    if (!counter) return;
    var n = Math.max(0, parseInt(counter.textContent, 10) + delta);
    counter.textContent = n;
    counter.setAttribute("aria-label", n + " leads");
  }

  function announce(text) {
    var live = document.getElementById("board-status");
    if (live) live.textContent = text;
  }

  function placeCard(html, leadId) {
    var old = document.getElementById("lead-" + leadId);
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var card = tpl.content.firstElementChild;
    var from = old ? old.closest(".board-col") : null;
    var to = column(card.getAttribute("data-stage-id"));
    if (old) old.remove();
    if (to) {
      to.querySelector("[data-drop]").prepend(card);
      if (window.htmx) window.htmx.process(card);
    }
    if (from !== to) {
      bump(from, -1);
      bump(to, 1);
    }
    var title = to ? to.querySelector("h2").textContent : "";
    announce(card.querySelector(".lead-number").textContent + " movido para " + title);
    card.classList.add("just-moved");
    return card;
  }

  function openDialog(html) {
    dialogBody.innerHTML = html;
    if (!dialog.open) dialog.showModal();
    var first = dialogBody.querySelector(".has-error select, .has-error input, select, input:not([type=hidden])");
    if (first) first.focus();
  }

  function closeDialog() {
    if (dialog.open) dialog.close();
    dialogBody.innerHTML = "";
  }

  function move(url, body, leadId) {
    var card = document.getElementById("lead-" + leadId);
    if (card) card.classList.add("is-moving");
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"HX-Request": "true", "X-CSRFToken": tokenMeta ? tokenMeta.content : ""}
    }).then(function (response) {
      return response.text().then(function (html) {
        if (card) card.classList.remove("is-moving");
        if (response.ok) {
          closeDialog();
          placeCard(html, leadId);
        } else if (response.status === 422) {
          openDialog(html);
        } else {
          window.alert("Não foi possível mover o lead (erro " + response.status + "). Recarregue a página.");
        }
      });
    }).catch(function () {
      if (card) card.classList.remove("is-moving");
      window.alert("Sem conexão: o lead não foi movido.");
    });
  }

  function moveTo(card, stageId) {
    var body = new FormData();
    var form = card.querySelector("form.move-form");
    body.append("csrf_token", tokenMeta ? tokenMeta.content : "");
    body.append("next", form.querySelector('[name="next"]').value);
    body.append("stage_id", stageId);
    return move(card.getAttribute("data-move-url"), body, card.getAttribute("data-lead-id"));
  }

  // Drag and drop between columns.
  board.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".lead-card");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-lead-id"));
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    board.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
  });
  board.addEventListener("dragover", function (e) {
    if (!dragged) return;
    var edge = board.getBoundingClientRect();  // near an edge: scroll the board towards the hidden columns
    if (e.clientX > edge.right - 48) board.scrollLeft += 16;
    else if (e.clientX < edge.left + 48) board.scrollLeft -= 16;
    var col = e.target.closest && e.target.closest(".board-col");
    if (!col) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach(function (el) { if (el !== col) el.classList.remove("drop-target"); });
    col.classList.add("drop-target");
  });
  board.addEventListener("dragleave", function (e) {
    var col = e.target.closest && e.target.closest(".board-col");
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("drop-target");
  });
  board.addEventListener("drop", function (e) {
    var col = e.target.closest && e.target.closest(".board-col");
    if (!col || !dragged) return;
    e.preventDefault();
    col.classList.remove("drop-target");
    var card = dragged;
    dragged = null;
    card.classList.remove("is-dragging");
    if (col.getAttribute("data-stage-id") === card.getAttribute("data-stage-id")) return;
    moveTo(card, col.getAttribute("data-stage-id"));
  });

  // "Mover para" on a card and the required-field form in the dialog: same request, no page reload.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form.move-form")) return;
    var card = form.closest(".lead-card");
    var leadId = card ? card.getAttribute("data-lead-id") : form.getAttribute("data-lead-id");
    if (!leadId) return;
    if (card && form.querySelector('[name="stage_id"]').value === card.getAttribute("data-stage-id")) {
      e.preventDefault();
      return;
    }
    e.preventDefault();
    move(form.action, new FormData(form), leadId);
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-close-dialog]") && dialog.contains(e.target)) {
      e.preventDefault();
      closeDialog();
    }
  });
  dialog.addEventListener("close", function () { dialogBody.innerHTML = ""; });
})();
