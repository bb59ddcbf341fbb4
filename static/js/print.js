// Print buttons ([data-print]) are hidden until this script shows them: without JavaScript the
// browser's own print command gives the same report (the print stylesheet hides the navigation).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
