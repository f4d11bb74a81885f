// The new-document form: choosing a template in another language switches "Our company" to
// the company whose documents are in that language, unless the user has picked a company.
(function () {
  var template = document.querySelector("select[name=template_id]");
  var company = document.querySelector("select[name=company_id]");
  if (!template || !company) return;
  var pickedByHand = false;

  company.addEventListener("change", function () { pickedByHand = true; });
  template.addEventListener("change", function () {
    if (pickedByHand) return;
    var chosen = template.options[template.selectedIndex];
    var language = chosen ? chosen.dataset.language : "";
    var match = Array.prototype.find.call(company.options, function (option) {
      return language && option.dataset.language === language;
    });
    if (match) company.value = match.value;
  });
})();
