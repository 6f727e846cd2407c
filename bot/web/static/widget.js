// Koers chat widget: <script src="https://HOST/widget.js" data-code="INVITE" async></script>
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var code = script.getAttribute("data-code") || "";
  var label = script.getAttribute("data-label") || "Koers";
  var open = false;

  var frame = document.createElement("iframe");
  var src = origin + "/chat?embed=1" + (code ? "&code=" + encodeURIComponent(code) : "");
  frame.title = label;
  frame.setAttribute("style", "position:fixed;bottom:88px;inset-inline-end:16px;width:min(380px,calc(100vw - 32px));" +
    "height:min(600px,calc(100vh - 120px));border:1px solid #ccd;border-radius:12px;box-shadow:0 8px 24px rgba(0,0,0,.2);" +
    "z-index:2147483646;display:none;background:#fff");

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.textContent = label;
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("style", "position:fixed;bottom:16px;inset-inline-end:16px;z-index:2147483647;" +
    "padding:14px 20px;border-radius:28px;border:0;background:#1d4e89;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer");
  launcher.addEventListener("click", function () {
    open = !open;
    if (open && !frame.src) { frame.src = src; }
    frame.style.display = open ? "block" : "none";
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
  });

  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(launcher);
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
