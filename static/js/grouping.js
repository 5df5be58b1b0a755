/* Grouping advisor: share bars and the copy-rule button, kept out of the page for the CSP (no inline script or style). */
(function () {
  "use strict";

  // A share bar's width comes from its data-share (0..1): set through the CSSOM, which the CSP allows.
  function drawShares(root) {
    root.querySelectorAll(".gp-share[data-share]").forEach((bar) => bar.style.setProperty("--share", bar.dataset.share));
  }

  document.addEventListener("DOMContentLoaded", () => drawShares(document));
  document.addEventListener("htmx:load", (event) => drawShares(event.detail.elt));

  // Copy a rule: the Clipboard API where the page is a secure context, else a selection and execCommand.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const area = Object.assign(document.createElement("textarea"), { value: text });
      document.body.append(area); area.select(); document.execCommand("copy"); area.remove();
    }
    const label = button.textContent; // in the viewer's language, as are data-copied's words
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  });
})();
