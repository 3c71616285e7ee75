// Kennisbank: "/" focuses the search box; on a phone the filters start folded.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  var typing = target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  if (event.key !== "/" || typing || event.ctrlKey || event.metaKey || event.altKey) return;
  var box = document.getElementById("q") || document.getElementById("header-q");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});
var filters = document.getElementById("filters");
if (filters && window.matchMedia("(max-width: 900px)").matches) filters.open = false;
