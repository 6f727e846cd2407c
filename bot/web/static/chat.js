// Koers web chat: renders the conversation, sends messages and button payloads.
(function () {
  "use strict";
  var root = document.getElementById("koers-chat");
  if (!root) { return; }
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var typing = document.getElementById("typing");
  var busy = false;

  function bubble(from, text) {
    var item = document.createElement("div");
    item.className = "msg " + (from === "user" ? "from-user" : "from-bot");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (from === "user" ? root.dataset.you : root.dataset.bot) + ": ";
    var body = document.createElement("p");
    body.setAttribute("dir", "auto");
    // textContent, never innerHTML: nothing anyone types becomes markup
    body.textContent = text;
    item.appendChild(who);
    item.appendChild(body);
    log.appendChild(item);
    return item;
  }

  function buttons(list) {
    if (!list || !list.length) { return; }
    var row = document.createElement("div");
    row.className = "buttons";
    list.forEach(function (b) {
      var el = document.createElement("button");
      el.type = "button";
      el.className = "choice";
      el.textContent = b.title;
      el.addEventListener("click", function () {
        row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        send(b.payload, b.title);
      });
      row.appendChild(el);
    });
    log.appendChild(row);
  }

  function render(messages) {
    messages.forEach(function (m) {
      if (m.from === "user") { bubble("user", m.text); return; }
      if (m.text) { bubble("bot", m.text); }
      if (m.attachment) {
        var a = document.createElement("a");
        a.href = m.attachment;
        a.textContent = "⬇ " + (m.filename || m.attachment);
        if (m.filename) { a.setAttribute("download", m.filename); }
        a.className = "attachment";
        log.appendChild(a);
      }
      buttons(m.buttons);
    });
    log.scrollTop = log.scrollHeight;
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    log.setAttribute("aria-busy", on ? "true" : "false");
  }

  function send(text, shown) {
    if (busy) { return Promise.resolve(); }
    if (shown !== null) { bubble("user", shown || text); }
    setBusy(true);
    return fetch("/api/message", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: text })
    }).then(function (r) {
      return r.json().catch(function () { return { messages: [{ text: root.dataset.error }] }; });
    }).then(function (data) {
      render(data.messages || []);
    }).catch(function () {
      render([{ text: root.dataset.error }]);
    }).then(function () {
      setBusy(false);
      input.focus();
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  fetch("/api/history", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .catch(function () { return { messages: [] }; })
    .then(function (data) {
      render(data.messages || []);
      var code = root.dataset.code;
      if (code) {
        // the invite code is used once; a reload must not send it again
        var url = new URL(window.location.href);
        url.searchParams.delete("code");
        window.history.replaceState(null, "", url.toString());
        if (!(data.messages || []).length) { return send("/start " + code, null); }
      }
      return null;
    });
  root.dataset.ready = "1";
})();
