// The new-document and bulk upload forms: choosing a template in another language switches
// "Our company" to the company whose documents are in that language, and the currency (and,
// for bulk send, the place last used with that template) to the template's own, unless the
// user has changed that field by hand.
(function () {
  var template = document.querySelector("select[name=template_id]");
  if (!template) return;
  var touched = {};
  ["company_id", "currency", "place"].forEach(function (name) {
    var input = document.querySelector("[name=" + name + "]");
    if (input) input.addEventListener("input", function () { touched[name] = true; });
    if (input) input.addEventListener("change", function () { touched[name] = true; });
  });

  function follow(name, value) {
    var input = document.querySelector("[name=" + name + "]");
    if (input && !touched[name] && value !== undefined) input.value = value;
  }

  template.addEventListener("change", function () {
    var chosen = template.options[template.selectedIndex];
    if (!chosen) return;
    var company = document.querySelector("select[name=company_id]");
    var language = chosen.dataset.language;
    var match = company && Array.prototype.find.call(company.options, function (option) {
      return language && option.dataset.language === language;
    });
    if (match) follow("company_id", match.value);
    follow("currency", chosen.dataset.currency);
    follow("place", chosen.dataset.place);
  });
})();
