// A little JavaScript: filters apply as soon as a choice changes (the form works without it).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("filters");
  if (!form) return;
  form.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => form.submit());
  });
});
