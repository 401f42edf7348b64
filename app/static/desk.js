// Live pages poll with htmx; a refresh must not snatch a select or a text box from under the user.
function deskIdle(selector) {
  const focused = document.activeElement;
  return !(focused && focused.closest(selector) && focused.matches("select, input, textarea"));
}
