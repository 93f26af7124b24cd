// Suggestions for the team and supervisor filters of the plan lists: as the user types, ask the
// lookup endpoint for at most twenty matches and offer them in the field's <datalist>. Without
// JavaScript the fields still work: the server matches the typed name.
(function () {
  "use strict";
  var script = document.getElementById("autocomplete-script");
  if (!script) return;
  var inputs = document.querySelectorAll("input[data-lookup]");
  inputs.forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = script.dataset[input.dataset.lookup];
    var timer = null;
    var last = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value.trim();
        if (text.length < 2 || text === last) return;
        last = text;
        fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren();
            data.results.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.label;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  });
})();
