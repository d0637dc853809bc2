// The page-wide code toggle: opens or closes every folded code cell at once.
(() => {
  const folds = () => [...document.querySelectorAll("details.code-fold")];
  const buttons = [...document.querySelectorAll(".toggle-code")];
  const show = (open) => {
    folds().forEach((d) => { d.open = open; });
    buttons.forEach((b) => {
      b.setAttribute("aria-pressed", String(open));
      b.textContent = open ? "Hide all code" : "Show all code";
    });
  };
  buttons.forEach((b) => b.addEventListener("click", () => show(b.getAttribute("aria-pressed") !== "true")));
  // A link to a heading or cell inside folded code opens its fold.
  const reveal = () => {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const fold = target && target.closest("details.code-fold");
    if (fold) fold.open = true;
  };
  addEventListener("hashchange", reveal);
  reveal();
})();
