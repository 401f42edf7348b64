// Live pages poll with htmx; a refresh must not snatch a select or a text box from under the user.
function deskIdle(selector) {
  const focused = document.activeElement;
  return !(focused && focused.closest(selector) && focused.matches("select, input, textarea"));
}

// A live page whose request failed (the desk's database or Redis down, the server unreachable) keeps its
// last content, says so in a banner, and keeps polling; the banner goes with the next good answer.
function deskBanner(text) {
  let banner = document.getElementById("desk-problem");
  if (!banner) {
    banner = document.createElement("p");
    banner.id = "desk-problem";
    banner.className = "flash problem";
    banner.setAttribute("role", "alert");
    document.querySelector("main").prepend(banner);
  }
  banner.textContent = text;
}
document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const said = xhr.getResponseHeader("Content-Type")?.startsWith("text/plain") ? xhr.responseText : "";
  deskBanner(said || `The desk answered with an error (${xhr.status}); this page keeps trying.`);
});
document.addEventListener("htmx:sendError", () => {
  deskBanner("No connection to the desk; this page keeps trying.");
});
document.addEventListener("htmx:afterSwap", () => {
  document.getElementById("desk-problem")?.remove();
});
