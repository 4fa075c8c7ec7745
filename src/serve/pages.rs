//! The learning simulation's pages, rendered on the server: no script, no
//! file from outside, so they work offline in a classroom. Every figure is
//! one of [`RoundResults`]' and is named as the report names it.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart;
use super::store::{Decision, GameRow, Practice, Team, round_name, round_title};
use crate::economics::Grade;
use crate::format::{count, money, pounds};
use crate::game::{
    Announced, CARD_POUNDS, Card, Explanation, Lever, RoundResults, Shock, ShockCost, TeamEffects,
};
use crate::metrics::Band;
use crate::model::Unit;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
main{max-width:62rem;margin:0 auto;padding:1rem 1.5rem 3rem;overflow-wrap:anywhere}
header{background:#0b3d5c;color:#fff;padding:.6rem 1.5rem}
header a{color:#fff;text-decoration:none;font-weight:600}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;background:#fff;overflow-wrap:normal}
.scroll th{white-space:nowrap}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child,th.name,td.name{text-align:left}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,34rem),1fr));gap:0 2rem}
td{white-space:nowrap}td.text{white-space:normal;text-align:left;min-width:14rem}
.note{color:#555;font-size:.9rem}
tr.total td{font-weight:700;border-top:2px solid #1b1b1b}
.scroll .effects th{white-space:normal;min-width:5rem}.effects td:first-child{white-space:normal;min-width:8rem;max-width:22rem}
.message{border-left:4px solid #b00020;background:#fdecee;padding:.6rem 1rem}
.ok{border-left:4px solid #1b7a3a;background:#e9f6ee;padding:.6rem 1rem}
.warning{border-left:4px solid #8a5a00;background:#fff6e0;padding:.6rem 1rem}
fieldset.ages{border:0;padding:0;margin:.4rem 0}fieldset.ages legend{padding:0}
fieldset.ages label{display:inline-block;margin:.2rem 1.2rem .2rem 0}
form.signed-in{text-align:right;margin:.3rem 0}
button.link{background:none;color:#0b3d5c;text-decoration:underline;padding:0}
p.said{margin:.2rem 0 .6rem;padding:.3rem .8rem;font-size:.95rem}
.card>h2:first-child{margin-top:0}
form.card,section.card{background:#fff;border:1px solid #ddd;padding:1rem;margin:1rem 0}
label{display:block;margin:.4rem 0}
input,select,textarea{font:inherit;padding:.25rem;max-width:100%;box-sizing:border-box}
textarea{width:100%;max-width:40rem}
button{font:inherit;padding:.35rem 1rem;background:#0b3d5c;color:#fff;border:0;cursor:pointer}
.code{font-size:2rem;letter-spacing:.3rem;font-weight:700}
.scroll{overflow-x:auto;max-width:100%}
a.button{display:inline-block;padding:.5rem 1.2rem;background:#0b3d5c;color:#fff;text-decoration:none;font-weight:600}
fieldset.card{background:#fff;border:1px solid #ddd;padding:.6rem 1rem;margin:.8rem 0}
fieldset.lever ul.facts{margin:.2rem 0 .6rem;padding-left:1.2rem;font-size:.95rem}fieldset.lever label{display:inline;margin-right:.4rem}
p.total{font-weight:600;min-height:1.4em}table.plan th{text-align:left}
progress{width:100%;max-width:30rem;height:1.2rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
.chart label.key{display:inline-block;margin:0 1rem .3rem 0}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
.chart figure{margin:.3rem 0 1rem}.chart svg{width:100%;max-width:45rem;height:auto;background:#fff}
@media print{header,form,.chart input,.noprint{display:none}body{background:#fff}main{max-width:none;padding:0}
.scroll{overflow:visible}.scroll th,td{white-space:normal}tr{break-inside:avoid}h2,h3{break-after:avoid}.chart svg{max-width:36rem}}
";

/// A whole page.
pub(super) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Upstream" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { nav aria-label="Upstream" { a href="/" { "Upstream · learning simulation" } " · " a href="/workbench" { "Commissioner's workbench" } " · " a href="/glossary" { "Glossary" } } }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A refusal or failure, with the way back.
pub(super) fn message(title: &str, text: &str, back: &str) -> Markup {
    page(
        title,
        html! {
            p.message role="alert" { (text) }
            p { a href=(back) { "Go back" } }
        },
    )
}

/// A scenario a facilitator can choose.
pub(super) struct Playable {
    /// Its file name.
    pub file: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
}

/// The front page: join a game, or set one up. `key` is the facilitator
/// key when the page was opened with it, filled into the set-up forms;
/// `code` a game's code when it was opened from a class screen's QR code.
pub(super) fn home(playable: &[Playable], key: Option<&str>, code: Option<&str>) -> Markup {
    page(
        "Learning simulation",
        html! {
            p { "Teams run the same place over several rounds, each a simulated year, splitting a prevention budget between the levers the facilitator allows. Every team meets the same luck, so the differences between teams are their decisions." }
            form.card method="post" action="/join" {
                h2 { "Join a game" }
                label { "Game code " input name="code" required autocomplete="off" size="8" value=[code]; }
                label { "Team name " input name="team" required maxlength="40" autofocus[code.is_some()]; }
                button type="submit" { "Join" }
            }
            form.card method="post" action="/games" {
                h2 { "Set up a game (facilitators)" }
                (key_field(key))
                label { "Name " input name="name" required value="Academy cohort" maxlength="80"; }
                label { "Place and levers "
                    select name="scenario" {
                        @for p in playable { option value=(p.file) { (p.name) " — " (p.description) } }
                    }
                }
                (game_settings())
                button type="submit" { "Set up the game" }
                p.note { "The facilitator's page is kept in this browser by a cookie; keep the link it shows to open it elsewhere. " a href="/guide" { "Running a session" } ": learning objectives, plans for 90 minutes and half a day, and debrief questions." }
            }
            form.card method="post" action="/games/upload" enctype="multipart/form-data" {
                h2 { "Set up a game from your own scenario" }
                (key_field(key))
                p.note { "Upload your scenario file (.toml, with an [optimise] table naming the levers) and any files it reads: the scenario it extends, unless that is one of the bundled ones above, and its starting state (.csv). It can read nothing else." }
                label { "Name " input name="name" required value="Academy cohort" maxlength="80"; }
                label { "Files " input name="files" type="file" multiple accept=".toml,.csv" required; }
                label { "Scenario file (blank: the one uploaded with levers) " input name="scenario_file" placeholder="our_place.toml"; }
                (game_settings())
                button type="submit" { "Upload and set up the game" }
            }
        },
    )
}

/// The facilitator key, first in each set-up form (an upload's files are
/// not read before it): filled in and hidden when the page was opened
/// with it, else asked for.
fn key_field(key: Option<&str>) -> Markup {
    html! {
        @if let Some(k) = key {
            input type="hidden" name="key" value=(k);
        } @else {
            label { "Facilitator key (printed when the server started) " input name="key" type="password" required autocomplete="off"; }
        }
    }
}

/// The size and length of a game, as both set-up forms ask.
fn game_settings() -> Markup {
    html! {
        label { "Rounds (simulated years) " input name="rounds" type="number" min="1" max="10" value="3"; }
        label { "Residents " input name="residents" type="number" min="5000" max="100000" step="1000" value="20000"; }
        label { "Replicates per team " input name="replicates" type="number" min="1" max="16" value="4"; }
        label { "Budget a team may spend each round, £ (blank: the scenario's) " input name="budget" inputmode="numeric"; }
        label { input type="checkbox" name="practice" value="1"; " Begin with a practice round (played from the same place with other luck, shown to teams, then set aside)" }
    }
}

/// A band as "mean (p5 to p95)" with `f` for each figure.
fn band(b: &Band, f: fn(f64) -> String) -> String {
    if b.p5 == b.p95 {
        f(b.mean)
    } else {
        format!("{} ({} to {})", f(b.mean), f(b.p5), f(b.p95))
    }
}

/// A change with its sign; none on a change that rounds to nothing.
fn change(v: f64, f: fn(f64) -> String) -> String {
    let text = f(v);
    if v > 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{text}")
    } else {
        text
    }
}

/// A shock as news for teams: a headline and a short story of what it
/// changes, in the words of the place.
pub(super) fn shock_story(a: &Announced, services: &[(String, String)]) -> (String, String) {
    match a.shock {
        Shock::CostOfLiving { multiplier } => (
            "prices bite".into(),
            format!(
                "Energy, food and rents rise faster than incomes. From round {}, {:.0}% more residents are on low incomes, one of the risks that pushes residents' need up: expect more demand on reactive services, most where need is already high.",
                a.round,
                (multiplier - 1.0) * 100.0
            ),
        ),
        Shock::BudgetCut { share } => (
            format!("budgets cut by {:.0}%", share * 100.0),
            format!(
                "Every partner must find in-year savings. From round {}, your prevention budget is {:.0}% smaller. Which lever would you protect, and which payer feels the cut?",
                a.round,
                share * 100.0
            ),
        ),
        Shock::ProviderFailure { ref service, share } => {
            let name = service_name(services, service);
            (
                format!("a provider of {} fails", name.to_lowercase()),
                format!(
                    "{name} loses {:.0}% of its in-house places from round {}. Residents already placed stay; new entries are bought on the spot market or wait. Watch that service's cost and who pays it.",
                    share * 100.0,
                    a.round
                ),
            )
        }
    }
}

/// The name of service `id` among `services` (id, name), or the id.
fn service_name<'a>(services: &'a [(String, String)], id: &'a str) -> &'a str {
    services
        .iter()
        .find(|(i, _)| i == id)
        .map_or(id, |(_, n)| n.as_str())
}

pub(super) fn shock_text(a: &Announced, services: &[(String, String)]) -> String {
    match a.shock {
        Shock::CostOfLiving { multiplier } => format!(
            "Round {}: a cost-of-living rise — {:.0}% more residents on low incomes",
            a.round,
            (multiplier - 1.0) * 100.0
        ),
        Shock::BudgetCut { share } => {
            format!("Round {}: budgets cut by {:.0}%", a.round, share * 100.0)
        }
        Shock::ProviderFailure { ref service, share } => format!(
            "Round {}: a provider fails — {} loses {:.0}% of its in-house places, so new entries are bought on the spot market or wait",
            a.round,
            service_name(services, service),
            share * 100.0
        ),
    }
}

/// One round's results for one team.
pub(super) fn results(r: &RoundResults, levers: &[Lever]) -> Markup {
    html! {
        section.card {
            h3 { (round_title(r.round)) " (" (r.financial_year) ")" }
            @if r.round == 0 { p.note { "Practice: played with other luck than the game's, and set aside; round 1 starts afresh from the same place." } }
            p { "Spent: "
                @for (l, a) in levers.iter().zip(&r.amounts) { (l.name) " " (money(*a)) "; " }
            }
            p { "Net present value so far against no change: " strong { (band(&r.npv_so_far, money)) }
                " · " (format!("{:.0}%", r.probability_npv_positive * 100.0)) " of replicates above £0"
                " · crisis-months avoided so far: " (band(&r.crisis_months_avoided_so_far, count)) }
            div.scroll tabindex="0" { table {
                tr { th { "Demand this year" } th { "No change" } th { "Your place" } th { "Change" } }
                @for d in &r.demand {
                    tr { td { (d.name) " (" (d.measure) ")" }
                         td { (count(d.count.no_change.mean)) }
                         td { (count(d.count.team.mean)) }
                         td { (change(d.count.change.mean, count)) } }
                }
                tr { td { "Residents in crisis at the year's end" }
                     td { (count(r.in_crisis.no_change.mean)) }
                     td { (count(r.in_crisis.team.mean)) }
                     td { (change(r.in_crisis.change.mean, count)) } }
            } }
            div.scroll tabindex="0" { table {
                tr { th { "This year, by payer" } th { "Extra prevention spend" } th { "Reactive cost, no change" } th { "Reactive cost, your place" } th { "Net this year" } th { "Net so far, discounted" } }
                @for (p, w) in r.payers.iter().zip(&r.who_pays_so_far) {
                    @if p.spend.change.mean != 0.0 || p.reactive_cost.no_change.mean != 0.0 {
                        tr { td { (p.name) }
                             td { (money(p.spend.change.mean)) }
                             td { (money(p.reactive_cost.no_change.mean)) }
                             td { (money(p.reactive_cost.team.mean)) }
                             td { (change(-(p.spend.change.mean + p.reactive_cost.change.mean), money)) }
                             td { (change(w.net.mean, money)) } }
                    }
                }
            } }
            @if !r.mtfs.is_empty() {
                div.scroll tabindex="0" { table {
                    tr { th { "Medium-term financial strategy" } th { "Financial year" } th { "Revenue saving (− more spending)" }
                         th { "Savings target" } th { "Saving beyond the target (− short of it)" }
                         th { "Envelope" } th { "Headroom within the envelope (− over it)" } }
                    @for m in &r.mtfs {
                        tr { td { (m.name) } td { (m.financial_year) }
                             td { (change(m.saving.mean, money)) }
                             td { (m.savings_target.map_or("—".into(), money)) }
                             td { (m.beyond_target.map_or("—".into(), |b| change(b.mean, money))) }
                             td { (m.envelope.map_or("—".into(), money)) }
                             td { (m.headroom.map_or("—".into(), |b| change(b.mean, money))) } }
                    }
                } }
                p.note { "The medium-term financial strategy is in cash (nominal £), as budgets are set, and for financial years that ended this round: a payer's revenue saving is no change's spend and cost less its place's, and its savings target asks for a saving against no change. Signs as in every output: positive saves money or leaves it to spare." }
            }
            p.note { "Net: reactive cost avoided less extra prevention spend, so above £0 the payer is better off. Figures this year are real £ at the scenario's prices, as simulated; the net present value and the net so far are discounted, after optimism bias and with capital net of the value it leaves, as in the report, so the years' nets do not add up to them. Means over replicates; bands are the 5th to 95th percentiles." }
        }
    }
}

/// A decision form as a team sent it, refused: shown again as typed, with
/// why it was refused.
pub(super) struct Typed {
    /// Each lever's amount as typed, in lever order.
    pub amounts: Vec<String>,
    /// What the team wrote it expects.
    pub expectation: String,
    /// Why the decision was refused.
    pub refusal: String,
}

/// What a team sees: the round to decide, and its results so far.
#[allow(clippy::too_many_arguments)]
pub(super) fn team(
    game: &GameRow,
    (team, own_link): (&Team, &str),
    cards: &[Card],
    budget: f64,
    (current, previous, typed): (Option<&Decision>, Option<&Decision>, Option<&Typed>),
    shocks: &[Announced],
    services: &[(String, String)],
    results: &[&RoundResults],
    notice: Option<&str>,
) -> Markup {
    let round = game.next_round();
    let levers: Vec<Lever> = cards.iter().map(|c| c.lever.clone()).collect();
    let levers = levers.as_slice();
    // This round's decision, else the last one's amounts to start from.
    let start = current.or(previous);
    let over = game.played >= game.setup.rounds;
    page(
        &format!("{} — {}", team.name, game.name),
        html! {
            @if let Some(n) = notice { p.ok role="status" { (n) } }
            @if let (Some(t), true) = (typed, over || game.closed) {
                p.message role="alert" { "Not saved: " (t.refusal) }
            }
            @if !shocks.is_empty() {
                section.card { h2 { "News" }
                    @for s in shocks.iter().rev() {
                        @let (headline, story) = shock_story(s, services);
                        h3 { "Round " (s.round) ": " (headline) }
                        p { (story) }
                    }
                }
            }
            @if team.joined > 1 {
                p.note { "Your team joined in round " (team.joined) ". Until then your place was the no-change place, funding nothing new, and your figures so far count those years too." }
            }
            @if over {
                p { "The game is over: every round has been played." }
            } @else if game.closed {
                p { (round_title(round)) " is being played. Look again in a moment." }
            } @else {
                form.card #decision method="post" action=(format!("/games/{}/decision", game.id)) data-budget=(budget) {
                    h2 { @if round == 0 { "The practice round" } @else { "Round " (round) " of " (game.setup.rounds) } ": your budget is " (pounds(budget)) }
                    p { strong { "Your objective: " } "by the end of round " (game.setup.rounds) ", the best net present value against no change you can reach, with as many crisis-months avoided as you can, spending within your budget and each payer's limit." }
                    @if let Some(d) = game.deadline { p.note { "Decisions close " (deadline_text(d)) "." } }
                    input type="hidden" name="round" value=(round);
                    @if let Some(t) = typed {
                        p.message role="alert" { "Not saved: " (t.refusal) }
                    }
                    @for (i, c) in cards.iter().enumerate() {
                        @let value = match typed {
                            Some(t) => t.amounts.get(i).cloned().unwrap_or_default(),
                            None => start.and_then(|d| d.amounts.get(i)).copied().unwrap_or(0.0).to_string(),
                        };
                        (card(c, i, &value))
                    }
                    p.total { output #total for=(amount_ids(cards.len())) aria-live="polite" {} }
                    @if let (None, Some(last), None) = (current, previous, typed) {
                        p.note { "Filled in with your amounts for " (round_name(last.round)) ": change any, then submit." }
                    }
                    label { "What do you expect will happen?" br; textarea name="expectation" rows="3" maxlength="2000" { (typed.map_or_else(|| current.map_or("", |d| d.expectation.as_str()), |t| t.expectation.as_str())) } }
                    button type="submit" { @if current.is_some() { "Change our decision" } @else { "Submit our decision" } }
                    @if current.is_some() { p.note { "Your decision for " (round_name(round)) " is saved; you can change it until the round closes." } }
                    script src="/games/form.js" defer {}
                }
            }
            p { a href=(format!("/games/{}/screen", game.id)) { "The class screen" } ": every team's standing after each round."
                @if game.revealed { " · " a href=(format!("/games/{}/debrief", game.id)) { "The debrief" } } }
            details.card {
                summary { "Follow your team on another device" }
                p.note { "Open this link (or scan the code) on another phone or laptop to see and change your team's decision there too. Keep it to your team: anyone with it can decide for you." }
                p { code { (own_link) } }
                (super::standings::qr(own_link))
            }
            @if let Some((latest, earlier)) = results.split_last() {
                h2 { "Your results" }
                (team_charts(results))
                (self::results(latest, levers))
                // Earlier rounds folded, so a phone shows the latest first.
                @for r in earlier.iter().rev() {
                    details { summary { (round_title(r.round)) " (" (r.financial_year) ")" } (self::results(r, levers)) }
                }
            }
        },
    )
}

/// A lever's card and its amount field: what £100k a year buys, whom it
/// reaches and where more money stops buying anything, how soon it acts,
/// how sure the evidence is, and who funds it within what limit.
fn card(c: &Card, i: usize, value: &str) -> Markup {
    let (one, many) = match c.unit {
        Unit::Household => ("household", "households"),
        Unit::Resident => ("resident", "residents"),
    };
    let cases = |n: f64| format!("{} {}", count(n), if n == 1.0 { one } else { many });
    let id = format!("amount_{i}");
    html! {
        fieldset.card.lever {
            legend { strong { (c.lever.name) } " · paid for by " (c.lever.payer.label()) }
            ul.facts {
                @if let (Some(places), Some(unit)) = (c.places, c.unit_cost_per_month) {
                    li { (money(CARD_POUNDS)) " a year supports " (cases(places as f64)) " at a time (" (money(unit)) " a " (one) " a month), each for " (c.support_months) " months." }
                }
                @if let Some(reach) = c.reach {
                    li { "It reaches " (cases(reach as f64)) @if c.register { " at highest risk (its register)" } " at the start, in "
                        @if c.neighbourhoods.0 == c.neighbourhoods.1 { "every neighbourhood" } @else { (c.neighbourhoods.0) " of the " (c.neighbourhoods.1) " neighbourhoods" }
                        @if let Some(enough) = c.enough { "; beyond about " (money(enough)) " a year, places stand empty while the money is spent" }
                        "." }
                }
                li { @if c.ramp_up_months == 0 { "Acts at full strength from the first month" } @else { "Grows to full strength over " (c.ramp_up_months) " months" }
                    @if c.half_life_months > 0.0 { "; its effects fade by half " (c.half_life_months) " months after support ends." } @else { "; its effects end with support." } }
                li { "Evidence: " (c.evidence.name()) " confidence"
                    @if c.evidence != Grade::High { ", so the appraisal counts its savings for less (optimism bias)" } "." }
                @if let Some(limit) = c.payer_limit { li { (c.lever.payer.label()) " may put in at most " (pounds(limit)) " a round across its levers." } }
            }
            label for=(id) { "£ this round " }
            input #(id) name=(id) inputmode="numeric" value=(value) required aria-describedby="total";
        }
    }
}

/// The amount fields' ids, space-separated, for the running total.
fn amount_ids(levers: usize) -> String {
    (0..levers)
        .map(|i| format!("amount_{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The decision form's script: a running total of the amounts typed
/// against the budget. The form works without it.
pub(super) async fn form_script() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("form.js"),
    )
        .into_response()
}

/// A team's own charts: its net present value and crisis-months avoided so
/// far by round, with their bands, and who pays and who saves so far.
fn team_charts(results: &[&RoundResults]) -> Markup {
    let played: Vec<&RoundResults> = results.iter().filter(|r| r.round > 0).copied().collect();
    let rounds: Vec<String> = played.iter().map(|r| round_title(r.round)).collect();
    let line = |figure: fn(&RoundResults) -> &Band| -> Vec<chart::Line> {
        vec![chart::Line {
            name: "Your place".into(),
            mean: played.iter().map(|r| figure(r).mean).collect(),
            p5: played.iter().map(|r| figure(r).p5).collect(),
            p95: played.iter().map(|r| figure(r).p95).collect(),
        }]
    };
    let Some(last) = results.last() else {
        return html! {};
    };
    let payers: Vec<_> = last
        .who_pays_so_far
        .iter()
        .filter(|p| p.spend.mean != 0.0 || p.cost_avoided.mean != 0.0)
        .collect();
    let groups: Vec<String> = payers.iter().map(|p| p.name.clone()).collect();
    let series = [
        (
            "Extra prevention spend (below £0)",
            payers.iter().map(|p| -p.spend.mean).collect(),
        ),
        (
            "Reactive cost avoided",
            payers.iter().map(|p| p.cost_avoided.mean).collect(),
        ),
        ("Net", payers.iter().map(|p| p.net.mean).collect()),
    ]
    .map(|(name, values)| chart::Series {
        name: name.into(),
        values,
    });
    html! {
        @if !played.is_empty() {
            (chart::rounds("npv", "Your net present value so far against no change, by round: the mean, and the 5th to 95th percentiles shaded", &rounds, &line(|r| &r.npv_so_far), money))
            (chart::rounds("crisis", "Crisis-months your place has avoided so far against no change, by round", &rounds, &line(|r| &r.crisis_months_avoided_so_far), count))
        }
        @if !groups.is_empty() {
            (chart::bars("pays", &format!("Who pays and who saves so far, by payer, after {} (discounted, means)", round_name(last.round)), &groups, &series))
        }
    }
}

fn deadline_text(unix: i64) -> String {
    let left = unix - super::store::now();
    if left <= 0 {
        "now (the deadline has passed)".into()
    } else {
        format!("in {} min {:02} s", left / 60, left % 60)
    }
}

/// The facilitator's dashboard.
#[allow(clippy::too_many_arguments)]
pub(super) fn facilitate(
    game: &GameRow,
    link: &str,
    (teams, team_links): (&[Team], &[String]),
    submitted: &[bool],
    latest: &[Option<&RoundResults>],
    shocks: &[Announced],
    services: &[(String, String)],
    budget: f64,
    notice: Option<&str>,
) -> Markup {
    let round = game.next_round();
    let over = game.played >= game.setup.rounds;
    let base = format!("/games/{}", game.id);
    page(
        &format!("{} — facilitator", game.name),
        html! {
            @if let Some(n) = notice { p.ok role="status" { (n) } }
            section.card {
                p { "Teams join at this address with the code " span.code { (game.code) } }
                p { a href=(format!("{base}/screen")) { "Open the class screen" } " for the projector: how to join, who has decided and, after each round, every team's standing. It has no controls." }
                details { summary { "Your private link to this page" } p.note { "Anyone with it can run the game: do not show it on the class screen. " code { (link) } } }
                p { (game.setup.rounds) " rounds · " (count(game.setup.residents as f64)) " residents · "
                    (game.setup.replicates) " replicates per team" @if !over { " · budget this round " (money(budget)) } }
            }
            h2 { @if over { "All " (game.setup.rounds) " rounds played" } @else if round == 0 { "The practice round, before round 1 of " (game.setup.rounds) } @else { "Round " (round) " of " (game.setup.rounds) } }
            div.scroll tabindex="0" {
                table {
                    tr { th { "Team" } th { @if over { "Decision" } @else { "Decision for " (round_name(round)) } } th { "Net present value so far" } th { "Crisis-months avoided so far" } }
                    @for ((t, s), l) in teams.iter().zip(submitted).zip(latest) {
                        tr { td { (t.name) }
                             td { @if over { "—" } @else if *s { "submitted" } @else { "waiting" } }
                             td { (l.map_or("—".to_string(), |r| band(&r.npv_so_far, money))) }
                             td { (l.map_or("—".to_string(), |r| band(&r.crisis_months_avoided_so_far, count))) } }
                    }
                }
            }
            @if teams.is_empty() { p { "No team has joined yet." } }
            @else {
                details {
                    summary { "Each team's own link" }
                    p.note { "For a team that lost its page or wants it on another device: its link opens the team's page as it is on the team's own devices. Give each team only its own." }
                    ul { @for (t, l) in teams.iter().zip(team_links) { li { (t.name) ": " code { (l) } } } }
                }
            }
            @if !over {
                @let waiting = teams.iter().zip(submitted).filter(|(_, s)| !**s).count();
                form.card method="post" action=(format!("{base}/advance")) {
                    // The round this page shows: a tab left open plays
                    // nothing once that round is played.
                    input type="hidden" name="round" value=(round);
                    @if waiting > 0 && !teams.is_empty() {
                        label { input type="checkbox" name="anyway" value="1" required;
                            " Play although " (waiting) @if waiting == 1 { " team has" } @else { " teams have" }
                            " not decided: they fund nothing this round" }
                    }
                    button type="submit" { @if round == 0 { "Play the practice round" } @else { "Play round " (round) } }
                }
                form.card method="post" action=(format!("{base}/deadline")) {
                    label { "Close decisions in " input name="minutes" type="number" min="0" max="240" value="10"; " minutes (0: now; blank: no deadline) " }
                    button type="submit" { "Set the deadline" }
                    @if let Some(d) = game.deadline { p.note { "Decisions close " (deadline_text(d)) "." } }
                }
                form.card method="post" action=(format!("{base}/shock")) {
                    h3 { "Announce a shock for round " (game.played + 1) }
                    label { input type="radio" name="kind" value="cost_of_living" checked; " A cost-of-living rise: more residents on low incomes by (%) " }
                    label { input type="radio" name="kind" value="budget_cut"; " A budget cut for every team by (%) " }
                    label { input type="radio" name="kind" value="provider_failure"; " A provider failure: "
                        select name="service" aria-label="Service whose provider fails" {
                            @for (id, name) in services { option value=(id) { (name) } }
                        }
                        " loses (%) of its in-house places " }
                    label { "Size, % " input name="percent" type="number" min="1" max="100" value="20"; }
                    button type="submit" { "Announce to every team" }
                }
            }
            @if !shocks.is_empty() { h2 { "Shocks" } ul { @for s in shocks { li { (shock_text(s, services)) } } } }
            @if let Some(last) = shocks.last().filter(|s| s.round > game.played && !game.closed) {
                form method="post" action=(format!("{base}/shock/withdraw")) {
                    button type="submit" { "Withdraw the last shock (round " (last.round) ")" }
                }
            }
            h2 { "Debrief" }
            p.note { a href="/guide" { "Running a session" } ": session plans and the debrief's questions." }
            p { a href=(format!("{base}/debrief")) { "Open the debrief" } " · " a href=(format!("{base}/debrief.html")) { "Download it as one HTML file" } }
            form method="post" action=(format!("{base}/reveal")) {
                input type="hidden" name="revealed" value=(if game.revealed { "0" } else { "1" });
                button type="submit" { @if game.revealed { "Hide the debrief from teams" } @else { "Show the debrief to teams" } }
            }
        },
    )
}

/// What the debrief shows.
pub(super) struct Debrief<'a> {
    pub game: &'a GameRow,
    pub teams: &'a [Team],
    pub levers: &'a [Lever],
    pub decisions: &'a [Decision],
    pub results: &'a [(i64, RoundResults)],
    pub shocks: &'a [Announced],
    pub services: &'a [(String, String)],
    /// What each lever and shock did, once a round has been played.
    pub explained: Option<&'a Explanation>,
}

/// Questions a facilitator can ask the room after a game.
pub(super) const DEBRIEF_QUESTIONS: [&str; 6] = [
    "Which lever did the most for your team, and was it the one you expected?",
    "Who paid for your prevention, and who saved? Would that payer fund it again next year?",
    "When did your spending start to pay back, if it did? What would a ten-year view change?",
    "What did the shocks do to your results, and to the place funding nothing new?",
    "Which team's split would you copy, and what would you change about it?",
    "What would you want to know about your own place before funding this for real?",
];

/// The debrief: the standing, what each decision and shock did, questions
/// for the room, then every round's decisions beside what happened.
pub(super) fn debrief(d: &Debrief) -> Markup {
    let game = d.game;
    page(
        &format!("{} — debrief", game.name),
        html! {
            p { (game.setup.rounds) " rounds planned, " (game.played) " played, on "
                (count(game.setup.residents as f64)) " residents with " (game.setup.replicates)
                " runs of luck per team. Every team met the same luck, and each is compared with the same place funding nothing new (no change), run by run." }
            p.note.noprint { "To hand it out, print this page from the browser (Ctrl+P): it lays itself out for paper, without the controls." }
            @if !d.shocks.is_empty() { ul { @for s in d.shocks { li { (shock_text(s, d.services)) } } } }
            @if game.played > 0 {
                @let standings = super::standings::standings(d.teams, d.results);
                h2 { "Standing after " (round_name(game.played)) }
                (super::standings::ranking_table(&standings))
                (super::standings::charts("debrief", &standings, game.played))
            }
            @if let Some(e) = d.explained { (explained(d, e)) }
            @if game.played > 0 {
                h2 { "Questions for the room" }
                ol { @for q in DEBRIEF_QUESTIONS { li { (q) } } }
            }
            @let practised = (game.practice == Practice::Played).then_some(0);
            @for round in practised.into_iter().chain(1..=game.played) {
                h2 { (round_title(round)) }
                div.scroll tabindex="0" { table {
                    tr { th { "Team" }
                         @for l in d.levers { th { (l.name) } }
                         th { "Residents in crisis at the year's end, against no change" }
                         th { "Net present value so far" }
                         th { "What they expected" } }
                    @for t in d.teams {
                        @let dec = d.decisions.iter().find(|x| x.team == t.id && x.round == round);
                        @let r = d.results.iter().find(|(id, r)| *id == t.id && r.round == round).map(|(_, r)| r);
                        tr { td { (t.name) }
                             @for i in 0..d.levers.len() { td { (dec.map_or("—".into(), |x| money(x.amounts[i]))) } }
                             td { (r.map_or("—".into(), |r| change(r.in_crisis.change.mean, count))) }
                             td { (r.map_or("—".into(), |r| band(&r.npv_so_far, money))) }
                             td.text { @match dec {
                                 None if round < t.joined => em { "not yet joined: funded nothing" },
                                 Some(x) if x.submitted == 0 => em { "no decision submitted: funded nothing" },
                                 Some(x) => (x.expectation),
                                 None => "—",
                             } } }
                    }
                } }
            }
            @if game.played == 0 { p { "No round has been played yet." } }
        },
    )
}

/// What each team's levers and the shocks did, from its place replayed on
/// the same luck without each.
fn explained(d: &Debrief, e: &Explanation) -> Markup {
    let replayed: Vec<(&ShockCost, &Announced)> = e
        .shocks
        .iter()
        .filter_map(|c| d.shocks.get(c.index).map(|a| (c, a)))
        .collect();
    html! {
        h2 { "What each decision did" }
        p { "Each team's place was played again on the same luck without each lever it funded (every round of that lever at £0), and without each shock. "
            "A lever's effect is the team's result less its result without that lever. The levers' effects and what they did together add up to the team's result. "
            "Figures are the game so far to the end of " (round_name(e.round)) ", averaged over the runs of luck." }
        @if !replayed.is_empty() {
            h3 { "What the shocks did to the place" }
            ul { @for (c, a) in &replayed {
                li { (shock_text(a, d.services)) ". Funding nothing new, the place had "
                     strong { (change(c.crisis_months, count)) " crisis-months" } " and "
                     strong { (change(c.cost, money)) } " of reactive cost (today's prices, not discounted) because of it." }
            } }
        }
        @if d.shocks.iter().any(|a| a.round <= e.round && matches!(a.shock, Shock::BudgetCut { .. })) {
            p.note { "A budget cut changes what teams could spend, not the place, so it is not played again: its effect is in the decisions teams made." }
        }
        @for (t, fx) in d.teams.iter().zip(&e.teams) {
            h3 { (t.name) }
            p { (headline(d.levers, fx)) }
            div.scroll tabindex="0" { table.effects {
                tr { th { "What" } th { "Put in over the game" } th { "Net present value so far" } th { "Crisis-months avoided so far" } }
                @for (i, (l, f)) in d.levers.iter().zip(&fx.levers).enumerate() {
                    tr { td { (l.name) " (" (l.payer.label()) ")" }
                         td { (money(put_in(d, t.id, i, e.round))) }
                         td { (change(f.npv, money)) } td { (change(f.crisis_months, count)) } }
                }
                tr { td { "The levers together, beyond each alone" } td { "" }
                     td { (change(fx.together.npv, money)) } td { (change(fx.together.crisis_months, count)) } }
                tr.total { td { "The team's result" } td { (money((0..d.levers.len()).map(|i| put_in(d, t.id, i, e.round)).sum())) }
                     td { (change(fx.result.npv, money)) } td { (change(fx.result.crisis_months, count)) } }
                @for ((_, a), f) in replayed.iter().zip(&fx.shocks) {
                    tr { td { "What " (shock_name(a)) " did to the result" } td { "" }
                         td { (change(f.npv, money)) } td { (change(f.crisis_months, count)) } }
                }
            } }
        }
    }
}

/// £ a team put into lever `lever` in rounds 1 to `round`.
fn put_in(d: &Debrief, team: i64, lever: usize, round: u32) -> f64 {
    d.decisions
        .iter()
        .filter(|x| x.team == team && (1..=round).contains(&x.round))
        .map(|x| x.amounts[lever])
        .sum()
}

/// One sentence on a team's levers: the one that did the most for its net
/// present value, and how much of the result that is.
fn headline(levers: &[Lever], fx: &TeamEffects) -> String {
    let best = fx
        .levers
        .iter()
        .enumerate()
        .filter(|(_, f)| f.npv != 0.0)
        .max_by(|a, b| a.1.npv.abs().total_cmp(&b.1.npv.abs()));
    match best {
        None => "It funded no lever: its place was the no-change place.".into(),
        Some((i, f)) => format!(
            "{} moved its net present value the most: {} of the {} so far.",
            levers[i].name,
            change(f.npv, money),
            money(fx.result.npv)
        ),
    }
}

/// A shock's short name, for a row of a table.
fn shock_name(a: &Announced) -> String {
    match a.shock {
        Shock::CostOfLiving { .. } => format!("round {}'s cost-of-living rise", a.round),
        Shock::BudgetCut { .. } => format!("round {}'s budget cut", a.round),
        Shock::ProviderFailure { .. } => format!("round {}'s provider failure", a.round),
    }
}

/// What a cohort should be able to do after a session.
pub(super) const LEARNING_OBJECTIVES: [&str; 5] = [
    "Explain why prevention's spend falls on one payer and its savings on others, and what that means for who will fund it.",
    "Read a net present value with its range over runs of luck, and say why the first years of prevention look worse than the later ones.",
    "Tell what a decision did from what luck did, by comparing the same place with and without it.",
    "Weigh reach, evidence and time to effect when splitting a budget between levers.",
    "Say what a shock does to reactive demand, and to the case for prevention.",
];

/// A session plan: its name, the game to set up, then each step's minutes
/// and what happens.
pub(super) type Plan = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Two session plans with timings.
pub(super) const SESSION_PLANS: [Plan; 2] = [
    (
        "A 90-minute session",
        "Set up 3 rounds with a practice round, on the default place; teams of 3 to 6.",
        &[
            (
                "0:00–0:10",
                "Welcome and learning objectives. Open the class screen on the projector; teams join from its QR code or address.",
            ),
            (
                "0:10–0:20",
                "The practice round: teams read the lever cards and split the budget; play it and let them look at their results.",
            ),
            (
                "0:20–0:35",
                "Round 1: teams decide and write what they expect. Play it when the class screen shows every team has decided.",
            ),
            (
                "0:35–0:45",
                "The class screen's standing after round 1: ask one team why it leads and one why it trails.",
            ),
            (
                "0:45–0:55",
                "Announce a cost-of-living rise for round 2; teams decide again; play.",
            ),
            (
                "0:55–1:05",
                "Round 3; play, then show the debrief to teams.",
            ),
            (
                "1:05–1:25",
                "The debrief: the standing, what each decision did, and the questions for the room.",
            ),
            (
                "1:25–1:30",
                "Close: what each team would want to know about its own place.",
            ),
        ],
    ),
    (
        "A half-day session (3½ hours)",
        "Set up 5 rounds with a practice round; give each member of a team a payer to speak for.",
        &[
            (
                "0:00–0:20",
                "Welcome, learning objectives, the place and its levers: read one lever card together.",
            ),
            ("0:20–0:40", "The practice round, played and looked at."),
            (
                "0:40–1:05",
                "Round 1: each member argues for their payer before the team decides.",
            ),
            (
                "1:05–1:20",
                "The class screen after round 1: who leads, and on which measure.",
            ),
            (
                "1:20–1:45",
                "Round 2, with a cost-of-living rise announced.",
            ),
            ("1:45–2:00", "Break."),
            ("2:00–2:20", "Round 3, with a budget cut announced."),
            ("2:20–2:40", "Round 4, with a provider failure announced."),
            ("2:40–2:55", "Round 5; show the debrief to teams."),
            (
                "2:55–3:25",
                "The debrief: what each decision and each shock did, team by team, and the questions for the room.",
            ),
            (
                "3:25–3:30",
                "Close: one change each would make to a real commissioning decision.",
            ),
        ],
    ),
];

/// The facilitator's guide: learning objectives, session plans and the
/// debrief's questions.
pub(super) fn guide() -> Markup {
    page(
        "Running a session",
        html! {
            p { "A learning simulation lets teams decide, see the consequences and decide again in a place where nothing real is at risk. Every team meets the same luck, so the differences between teams are their decisions; the debrief shows what each one did." }
            h2 { "Learning objectives" }
            p { "By the end, participants can:" }
            ol { @for o in LEARNING_OBJECTIVES { li { (o) } } }
            @for (name, setup, steps) in SESSION_PLANS {
                h2 { (name) }
                p { (setup) }
                div.scroll tabindex="0" { table.plan {
                    tr { th { "Time" } th { "What happens" } }
                    @for (minutes, what) in steps.iter() { tr { td { (minutes) } td.text { (what) } } }
                } }
            }
            h2 { "Questions for the debrief" }
            ol { @for q in DEBRIEF_QUESTIONS { li { (q) } } }
            p { a href="/glossary" { "The glossary" } ": the words the game uses." }
        },
    )
}

/// Words the game uses, in the users' language.
pub(super) fn glossary() -> Markup {
    let words: [(&str, &str); 7] = [
        (
            "Net present value (NPV)",
            "Savings less spend over the years so far, with later years' money counted for less (discounted, as the Treasury's Green Book does) and after optimism bias. Above £0: the prevention has paid for itself so far.",
        ),
        (
            "Cashable",
            "A saving a payer can take out of a budget as money, such as a spot placement not bought. Most avoided demand frees capacity rather than cash.",
        ),
        (
            "Optimism bias",
            "The Green Book's correction for appraisals that promise too much: costs are raised and savings lowered by an amount set by how sure the evidence is.",
        ),
        (
            "Crisis-month",
            "One resident at crisis need for one month. Crisis-months avoided are the no-change place's less your place's.",
        ),
        (
            "Payer",
            "Who bears a cost: adult social care, children's services, housing, the NHS, the police and others. One payer's spend often saves another's money.",
        ),
        (
            "No change",
            "The same place, with the same luck, funding none of the levers: every figure is compared with it.",
        ),
        (
            "Replicate",
            "One run of the place with its own luck. Several replicates show the range of what could happen; every team gets the same ones.",
        ),
    ];
    page(
        "Glossary",
        html! { dl { @for (w, m) in words { dt { strong { (w) } } dd { (m) } } } },
    )
}
