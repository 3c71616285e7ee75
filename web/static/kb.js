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
// Which result of a search was opened: the search log keeps it (never who opened it).
var cards = document.querySelector("ol.cards[data-search]");
if (cards && navigator.sendBeacon) {
  cards.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='/doc/']");
    if (!link) return;
    var doc = decodeURIComponent(link.getAttribute("href").slice(5));
    navigator.sendBeacon("/api/searches/" + cards.dataset.search + "/opened", new Blob([doc], {type: "text/plain"}));
  });
}
