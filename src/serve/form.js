// The decision form's running total: as a team types, what its amounts add
// up to against the round's budget, and what is left. Amounts are read as
// the server reads them ("£750k", "1.5m", "150,000"); the server checks
// them again when the form is sent, so this only helps.
const form = document.getElementById("decision");
const total = document.getElementById("total");
const budget = Number(form.dataset.budget);
const fields = [...form.querySelectorAll("input[name^=amount_]")];

function pounds(text) {
  let t = text.trim().replace(/^£/, "").trim();
  if (t === "") return 0;
  let times = 1;
  const lower = t.toLowerCase();
  if (lower.endsWith("bn")) { times = 1e9; t = t.slice(0, -2); }
  else if (lower.endsWith("k")) { times = 1e3; t = t.slice(0, -1); }
  else if (lower.endsWith("m")) { times = 1e6; t = t.slice(0, -1); }
  t = t.trim().replace(/^£/, "").replace(/[, ]/g, "");
  if (!/^[0-9.]/.test(t) || !/^[0-9]*\.?[0-9]*$/.test(t)) return NaN;
  return Number(t) * times;
}

const money = (v) => "£" + Math.round(v).toLocaleString("en-GB");

function update() {
  const amounts = fields.map((f) => pounds(f.value));
  if (amounts.some(Number.isNaN)) {
    total.textContent = "One amount is not an amount of £: write it as 75000, 75k or £1.5m.";
    return;
  }
  const sum = amounts.reduce((a, b) => a + b, 0);
  const left = budget - sum;
  total.textContent = left >= -0.5
    ? `${money(sum)} of ${money(budget)} allocated: ${money(left)} left.`
    : `${money(sum)} of ${money(budget)} allocated: ${money(-left)} over the budget.`;
}

fields.forEach((f) => f.addEventListener("input", update));
update();
