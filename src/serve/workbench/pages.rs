//! The workbench's pages, rendered on the server like the learning
//! simulation's: no script, nothing from elsewhere. Figures are named as
//! the terminal and the report name them.

use maud::{Markup, html};

use super::super::pages::page;
use super::super::store::Analyst;
use super::super::store::analysts::{NAME_CHARS, PASSWORD_CHARS};
use super::super::store::{Kind, RunRow, State};
use crate::format::{count, money, percent, thousands};
use crate::place::Activity;
use crate::workbench::{AGE_GROUPS, Library, Offered, PLACE_FILE, POLICY_FILE, Place};

/// The need levels a programme may take from, by their scenario names.
pub(super) const NEED_LEVELS: [(&str, &str); 4] = [
    ("thriving", "everyone (thriving and up)"),
    ("coping", "coping and up"),
    ("struggling", "struggling and up"),
    ("crisis", "in crisis only"),
];

/// Figures as the form shows them: "350,000; 1,500,000".
pub(super) fn figures(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| {
            if v.fract() == 0.0 {
                thousands(*v)
            } else {
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A policy's headline, from the run's economics file.
pub(super) struct Headline {
    /// The policy.
    pub scenario: String,
    /// Its net present value's 5th, 50th and 95th percentiles.
    pub npv: [Option<f64>; 3],
    /// The chance its net present value is above zero.
    pub chance: Option<f64>,
    /// Its money bridge, step by step.
    pub bridge: Option<crate::economics::bridge::Bridge>,
}

/// What a check of a design found: its warnings, and what was set from
/// the place's own figures.
pub(super) struct Checked<'a> {
    pub warnings: &'a [String],
    pub notes: &'a [String],
}

/// Signing in, or making an account with the server's key; `key`: the
/// key, when the page was opened from the link printed with it.
pub(super) fn key(key: Option<&str>) -> Markup {
    page(
        "Commissioner's workbench",
        html! {
            p { "Choose your place, design a policy from the library of interventions, run it, and take its board page to a meeting: no command line, no scenario files to write." }
            @if key.is_none() {
                form.card #sign-in method="post" action="/workbench/sign-in" {
                    h2 { "Sign in" }
                    label { "Your name " input name="name" required maxlength=(NAME_CHARS) autocomplete="username"; }
                    label { "Password " input name="password" type="password" required autocomplete="current-password"; }
                    button type="submit" { "Sign in" }
                }
            }
            form.card #new-account method="post" action="/workbench/key" {
                h2 { "Make your account" }
                p.note { "You see your own runs and those your colleagues share with you. An account needs the server's key once: it was printed when the server started, or ask whoever runs it." }
                @if let Some(k) = key {
                    input type="hidden" name="key" value=(k);
                    p { "You opened the workbench with the server's key." }
                } @else {
                    label { "The server's key " input name="key" type="password" required autocomplete="off"; }
                }
                label { "Your name " input name="name" required maxlength=(NAME_CHARS) autocomplete="username"; }
                label { "Choose a password (" (PASSWORD_CHARS.0) " characters or more) " input name="password" type="password" required minlength=(PASSWORD_CHARS.0) maxlength=(PASSWORD_CHARS.1) autocomplete="new-password"; }
                button type="submit" { "Make my account" }
            }
            @if key.is_some() {
                p { "Already have an account? " a href="/workbench" { "Sign in" } "." }
            }
        },
    )
}

/// Choosing a place, and the runs so far.
pub(super) fn home(library: &Library, runs: &[RunRow], me: &Analyst) -> Markup {
    let mut regions: Vec<&str> = library
        .places
        .iter()
        .map(|p| p.region.as_deref().unwrap_or("Other"))
        .collect();
    regions.dedup();
    regions.sort();
    regions.dedup();
    page(
        "Commissioner's workbench",
        html! {
            form.signed-in method="post" action="/workbench/sign-out" {
                "Signed in as " strong { (me.name) } ". "
                button.link type="submit" { "Sign out" }
            }
            form.card method="get" action="/workbench/design" {
                h2 { "1. Start from your place" }
                p.note { "An English upper-tier authority from the bundled places table: its residents and how many live in each deprivation decile, laid out as neighbourhoods. Everything else starts at the baseline's national defaults." }
                label { "Place "
                    select name="place" required {
                        @for r in &regions {
                            optgroup label=(r) {
                                @for p in library.places.iter().filter(|p| p.region.as_deref().unwrap_or("Other") == *r) {
                                    option value=(p.name) { (p.name) " (" (count(p.residents as f64)) " residents)" }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Design a policy for this place" }
            }
            form.card method="post" action="/workbench/place" enctype="multipart/form-data" {
                h2 { "Or your own place" }
                p.note { "A table of your neighbourhoods (CSV with the columns " code { "neighbourhood" } ", " code { "imd_decile" } " and " code { "residents" } "), as " code { "upstream new-place --neighbourhoods" } " reads it; at most 1 MB." }
                label { "Your place's name " input name="place" required maxlength="80"; }
                label { "Neighbourhoods table " input name="neighbourhoods" type="file" accept=".csv,text/csv" required; }
                button type="submit" { "Design a policy for your place" }
            }
            h2 { "Runs" }
            @if runs.is_empty() {
                p.note { "No runs yet." }
            } @else {
                form method="get" action="/workbench/compare" {
                    div.scroll {
                        table {
                            thead { tr { th { "Compare" } th { "Policy" } th { "Place" } th { "Version" } th { "What" } th { "State" } th { "Whose" } } }
                            tbody {
                                @for r in runs {
                                    tr {
                                        td {
                                            @if r.kind == Kind::Run && r.state == State::Done {
                                                input type="checkbox" name="run" value=(r.id) aria-label=(format!("Compare {} (version {})", r.name, r.version));
                                            }
                                        }
                                        td { a href=(format!("/workbench/runs/{}", r.id)) { (r.name) } }
                                        td { (r.place) }
                                        td { (r.version) }
                                        td { (r.kind.question()) }
                                        td { (state_words(r)) }
                                        td { (whose(r, Some(me))) }
                                    }
                                }
                            }
                        }
                    }
                    button type="submit" { "Compare the ticked runs" }
                }
            }
        },
    )
}

/// Whose a run is, for `viewer`: "yours, shared", "Sam Patel's".
fn whose(r: &RunRow, viewer: Option<&Analyst>) -> String {
    let owner = match (&r.owner_name, viewer) {
        (None, _) => "everyone's (from before accounts)".to_string(),
        (Some(_), Some(me)) if r.owner == Some(me.id) => "yours".to_string(),
        (Some(name), _) => format!("{name}'s"),
    };
    if r.shared && r.owner.is_some() {
        format!("{owner}, shared")
    } else {
        owner
    }
}

pub(super) fn state_words(r: &RunRow) -> String {
    match r.state {
        State::Running if r.jobs > 0 => format!("running: {} of {} replicates", r.done, r.jobs),
        s => s.words().to_string(),
    }
}

/// The design form for `place`, filled in from `typed` (what was sent, or
/// an earlier run's design), with the refusal or the check's warnings.
pub(super) fn design(
    place: &Place,
    carried: Option<&str>,
    library: &Library,
    typed: &super::Fields,
    problem: Option<&str>,
    checked: Option<Checked>,
) -> Markup {
    // A form sent (or an earlier run's) has a name; a new one is filled in
    // from the library.
    let fresh = !typed.contains_key("name");
    let value = |k: &str| typed.get(k).cloned().unwrap_or_default();
    page(
        &format!("A policy for {}", place.name()),
        html! {
            section.card {
                h2 { "The place" }
                @match place {
                    Place::Table(row) => {
                        p { (count(row.residents as f64)) " residents"
                            @if let Some(r) = &row.region { " in " (r) } "." }
                        div.scroll {
                            table {
                                caption.note { "Residents in each national deprivation decile (1: most deprived), from the bundled places table" }
                                tr { @for d in 1..=10 { th { (d) } } }
                                tr { @for v in row.deciles { td { (count(v)) } } }
                            }
                        }
                        p.note { "Laid out as neighbourhoods of about the baseline's size, most deprived first, as " code { "upstream new-place --place" } " lays them out. Rates, costs and behaviour are the baseline's national defaults, each with its source and confidence in the run's assumptions." }
                    }
                    Place::Own { neighbourhoods, .. } => {
                        p { (count(place.residents() as f64)) " residents in " (neighbourhoods.len()) " neighbourhoods, from your table." }
                        p.note { "As " code { "upstream new-place --neighbourhoods" } " takes them. Rates, costs and behaviour are the baseline's national defaults, each with its source and confidence in the run's assumptions." }
                    }
                }
            }
            @if let Some(p) = problem {
                p.message role="alert" { (p) }
            }
            @if let Some(c) = &checked {
                @if !c.notes.is_empty() {
                    div.ok role="status" {
                        p { "From your figures (rates scaled so the place's residents expect them, as " code { "upstream new-place" } " does):" }
                        ul { @for n in c.notes { li { (n) } } }
                    }
                }
            }
            @if let Some(w) = checked.map(|c| c.warnings) {
                @if w.is_empty() {
                    p.ok role="status" { "Checked: the design makes scenarios that load, with no warnings." }
                } @else {
                    div.message role="status" {
                        p { "Checked: the design loads, with these warnings (the command line gives the same):" }
                        ul { @for x in w { li { (x) } } }
                    }
                }
            }
            form.card method="post" action="/workbench/design" data-check="/workbench/design/check" {
                input type="hidden" name="place" value=(place.name());
                @if let Some(text) = carried {
                    input type="hidden" name="neighbourhoods" value=(text);
                }
                h2 { "2. Design the policy" }
                label { "Policy name " input name="name" required maxlength="80" value=(if fresh { format!("Prevention in {}", place.name()) } else { value("name") }); }
                label { "Years to look ahead (blank: the baseline's 10) " input name="years" inputmode="numeric" size="4" value=(value("years")); }
                label { "Replicates (runs of luck) per scenario " input name="replicates" inputmode="numeric" size="4" value=(if fresh { super::DEFAULT_REPLICATES.to_string() } else { value("replicates") }); }
                details open[Activity::FIGURES.iter().any(|(n, _)| !value(&format!("own.{n}")).is_empty())] {
                    summary { "Your place's own figures for last year (optional)" }
                    p.note { "Where you give one, the place's rates are scaled so its residents expect it (the baseline's present is set to your place's), as " code { "upstream new-place" } " does; the check says what each becomes." }
                    @for (name, words) in Activity::FIGURES {
                        label { (words) " " input name=(format!("own.{name}")) inputmode="numeric" size="10" value=(value(&format!("own.{name}"))); }
                    }
                }
                h3 { "Interventions" }
                p.note { "Each as its library scenario writes it: its effects, evidence and unit cost. Set its size by year (the last year's carries on), where it reaches, and the need it takes from. Amounts may be written as £750k or 1.5m; years are separated by a semicolon or a comma and a space." }
                @for o in &library.offered {
                    (offer(o, library, typed, fresh))
                }
                div #live-check role="status" aria-live="polite" {}
                button type="submit" name="go" value="check" { "Check" }
                " "
                button type="submit" name="go" value="run" { "Run" }
            }
            script src="/workbench/script.js" defer {}
        },
    )
}

/// One intervention's card on the design form.
fn offer(o: &Offered, library: &Library, typed: &super::Fields, fresh: bool) -> Markup {
    let key = |k: &str| format!("{k}.{}", o.id);
    let value = |k: &str| typed.get(&key(k)).cloned().unwrap_or_default();
    let size = if fresh {
        figures(&o.size)
    } else {
        value("size")
    };
    let reach = if fresh {
        o.most_deprived.map(|n| n.to_string()).unwrap_or_default()
    } else {
        value("reach")
    };
    let need = if fresh {
        o.need_at_least.clone().unwrap_or_default()
    } else {
        value("need")
    };
    let payer = if fresh || value("payer").is_empty() {
        o.payer.clone()
    } else {
        value("payer")
    };
    // The boxes as sent, where the form was sent with them; else the
    // library's aim (every age when it has none).
    let aimed = |g: &str| {
        if !fresh && value("ages") == "shown" {
            typed.contains_key(&format!("age.{}.{g}", o.id))
        } else {
            o.ages.as_ref().is_none_or(|a| a.iter().any(|x| x == g))
        }
    };
    html! {
        fieldset.card {
            legend {
                label { input type="checkbox" name=(key("take")) value="1" checked[value("take") == "1"]; " " strong { (o.name) } }
            }
            p { (o.description) }
            p.note {
                "Paid by: " (payer_words(&o.payer)) ". Evidence of its effects: " strong { (o.grade()) } "."
                @if let Some((what, s)) = &o.unit_cost {
                    " " (capitalised(what)) ": " (s.value.parse::<f64>().map(crate::format::pounds).unwrap_or_else(|_| s.value.clone()))
                    @if let Some(src) = &s.source { " (" (src) ")" }
                    "."
                }
            }
            details {
                summary { "Its effects and their sources" }
                ul {
                    @for (words, s) in &o.effects {
                        li { (words) " — " (s.confidence.as_deref().unwrap_or("not graded"))
                            @if let Some(src) = &s.source { ": " (src) } }
                    }
                }
            }
            label { "Size by year, " (o.sizing.unit()) " " input name=(key("size")) value=(size) size="30"; }
            @if o.kind != "places" {
                label { "Neighbourhoods reached: the most deprived " input name=(key("reach")) value=(reach) size="5" inputmode="numeric"; " (blank: as the library's; \"all\": every one)" }
            }
            label { "Paid by "
                select name=(key("payer")) {
                    @for p in crate::model::Payer::ALL.iter().filter(|p| **p != crate::model::Payer::Dwp) {
                        option value=(p.name()) selected[payer == p.name()] { (p.label()) }
                    }
                }
            }
            @if o.kind == "caseload" {
                fieldset.ages {
                    legend { "Ages taken" }
                    input type="hidden" name=(key("ages")) value="shown";
                    @for (i, g) in AGE_GROUPS.iter().enumerate() {
                        label { input type="checkbox" name=(format!("age.{}.{g}", o.id)) value="1" checked[aimed(g)]; " " (age_words(g)) " (" (library.ages_of(i)) ")" }
                        " "
                    }
                }
                label { "Need level taken "
                    select name=(key("need")) {
                        option value="" selected[need.is_empty()] { "as the library's" }
                        @for (k, words) in NEED_LEVELS {
                            option value=(k) selected[need == k] { (words) }
                        }
                    }
                }
            }
        }
    }
}

/// The place's own figures beside its baseline's first year.
fn beside(place: &str, beside: &[super::results::Beside]) -> Markup {
    html! {
        @if !beside.is_empty() {
            h2 { "Your figures beside the simulated place" }
            p.note { "The rates were scaled so the place's residents expect your figures (as " code { "upstream new-place" } " scales them); here is what the baseline, " (place) ", simulated in its first year, the mean across replicates: contacts in the year, or places held on a day (the mean over the year)." }
            div.scroll {
                table {
                    thead { tr { th { "Figure" } th { "Yours, last year" } th { "Simulated, first year" } th { "Difference" } } }
                    tbody {
                        @for b in beside {
                            tr {
                                td { (b.words) }
                                td { (count(b.given)) }
                                td { (count(b.simulated)) }
                                td { (if b.given > 0.0 { format!("{:+.1}%", 100.0 * (b.simulated / b.given - 1.0)) } else { "–".to_string() }) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Each outcome over time for every scenario: residents in crisis and
/// places held first, events a month folded below.
fn outcomes(outcomes: &[super::results::Outcome]) -> Markup {
    let chart = |i: usize, o: &super::results::Outcome| {
        crate::serve::chart::lines(
            &format!("outcome{i}"),
            &format!(
                "{}: each scenario's mean, with its 90% band shaded ({})",
                o.title, o.axis
            ),
            &o.lines,
        )
    };
    html! {
        @if !outcomes.is_empty() {
            h2 { "Outcomes over time" }
            p.note { "Each month of the horizon (Y1 is the end of its first year), as the board page charts them. Rest the pointer on a year's point for its value; untick a scenario to hide it." }
            @for (i, o) in outcomes.iter().enumerate().filter(|(_, o)| o.first) {
                h3 { (o.title) }
                (chart(i, o))
            }
            details {
                summary { "Events each month: A&E, admissions and the other contacts" }
                @for (i, o) in outcomes.iter().enumerate().filter(|(_, o)| !o.first) {
                    h3 { (o.title) }
                    (chart(i, o))
                }
            }
        }
    }
}

/// A policy's revenue saving by payer and financial year.
pub(super) struct ByPayer {
    /// The policy.
    pub scenario: String,
    /// The financial years, in order ("2026/27").
    pub years: Vec<String>,
    /// Each payer (by its id) and its saving in each year.
    pub payers: Vec<(String, Vec<f64>)>,
}

/// What a run's page shows beside the run: its files, headline and
/// experiments, and the library (for a sweep's choice of intervention).
pub(super) struct Seen<'a> {
    pub files: &'a [(String, u64)],
    pub headline: &'a [Headline],
    pub by_payer: &'a [ByPayer],
    pub outcomes: &'a [super::results::Outcome],
    pub beside: &'a [super::results::Beside],
    pub experiments: &'a [RunRow],
    pub library: Option<&'a Library>,
}

/// A run's page: while it waits or runs, its progress (the page refreshes
/// itself); when done, its headline, board page and files, and the
/// experiments it can start. `viewer`: the analyst signed in, or `None`
/// for the read-only page a colleague opens from its link.
pub(super) fn run(r: &RunRow, seen: &Seen, viewer: Option<&Analyst>) -> Markup {
    let shared = viewer.is_none();
    let owner = viewer.is_some_and(|me| r.owned_by(me));
    let base = if shared {
        format!("/shared/{}", r.share)
    } else {
        format!("/workbench/runs/{}", r.id)
    };
    let of = if r.kind == Kind::Run {
        "replicates"
    } else {
        "runs"
    };
    let title = if r.kind == Kind::Run {
        r.name.clone()
    } else {
        format!("{}? {}", r.kind.question(), r.name)
    };
    let body = html! {
        @if r.state.is_live() {
            // With the script, the progress is streamed and the page
            // loads once the run is over; without it, the page refreshes.
            noscript { meta http-equiv="refresh" content="2"; }
            script src="/workbench/script.js" defer {}
        }
        p { "Place: " strong { (r.place) } "; version " (r.version) " of this policy; "
            (r.replicates) " replicates (runs of luck) " (if r.kind == Kind::Run { "per scenario" } else { "at each point" }) "." }
        @if let (Some(parent), false) = (r.parent, shared) {
            p { "Started from " a href=(format!("/workbench/runs/{parent}")) { "the run of this design" } "." }
        }
        @match r.state {
            State::Queued | State::Running => {
                div data-events=(format!("{base}/events")) {
                    @if r.state == State::Queued {
                        p role="status" { "Waiting in the queue: it starts when the runs before it finish." }
                    } @else {
                        p role="status" { "Running: " (r.done) " of " (r.jobs.max(1)) " " (of) " done." }
                    }
                    progress max=(r.jobs.max(1)) value=(r.done) { (r.done) " of " (r.jobs) }
                }
            }
            State::Failed => { div.message role="alert" { p { "The run failed:" } pre { (r.message) } } }
            State::Cancelled => { p.message role="status" { "Cancelled." } }
            State::Done => {
                @if r.kind == Kind::Run {
                    h2 { "The board summary" }
                    @for h in seen.headline {
                        section.card {
                            h3 { (h.scenario) }
                            p { "NPV median (90%): " strong { (opt_money(h.npv[1])) } " (" (opt_money(h.npv[0])) " to " (opt_money(h.npv[2])) "). "
                                "Chance NPV > 0: " strong { (h.chance.map(percent).unwrap_or_else(|| "–".into())) } "." }
                        }
                    }
                    p { a.button href=(format!("{base}/files/{}", crate::published::REPORT_FILE)) { "Open the board page" } }
                    p.note { "The board page is the run's report: its first pages are the board summary, then the charts, the money by payer and financial year, and every assumption with its source." }
                    (bridges(seen.headline))
                    (who_pays(seen.by_payer))
                    (beside(&r.place, seen.beside))
                    (outcomes(seen.outcomes))
                } @else {
                    p { a.button href=(format!("{base}/files/{}", crate::published::REPORT_FILE)) { "Open its page" } }
                    p.note { "The experiment's page, as " code { "upstream " (r.kind.command()) } " writes it." }
                }
                @if !r.message.trim().is_empty() {
                    details { summary { "What the run said" } pre { (r.message) } }
                }
            }
        }
        @if owner && r.state.is_live() {
            form method="post" action=(format!("/workbench/runs/{}/cancel", r.id)) {
                button type="submit" { "Cancel this run" }
            }
        }
        @if !shared && r.kind == Kind::Run && r.state == State::Done {
            (ask_next(r, seen))
        }
        @if !seen.files.is_empty() {
            h2 { "Downloads" }
            div.scroll {
                table {
                    @for (name, bytes) in seen.files.iter().filter(|(n, _)| !n.starts_with("charts/") && !n.contains('/')) {
                        tr { td { a href=(format!("{base}/files/{name}")) { (name) } } td { (file_size(*bytes)) } }
                    }
                }
            }
            p.note { "Charts (SVG and PNG) and each point's own results are in the page and the folder the command line writes." }
        }
        @if !shared {
            h2 { "The scenario files" }
            p { "The server ran this command in the folder of these files; the command line gives the same files, byte for byte:" }
            pre { "upstream " (super::queue::arguments(r).join(" ")) }
            ul {
                @for f in [PLACE_FILE, POLICY_FILE, crate::workbench::BASELINE_FILE] {
                    li { a href=(format!("/workbench/runs/{}/scenario/{f}", r.id)) { (f) } }
                }
            }
            p { a href=(format!("/workbench/design?place={}&from={}", urlencode(&r.place), r.id)) { "Change this design (a new version)" } }
            h2 { "Who sees it" }
            @if owner && r.owner.is_some() {
                form method="post" action=(format!("/workbench/runs/{}/share", r.id)) {
                    @if r.shared {
                        p { "Shared: every colleague signed in to this workbench sees it, and can start their own versions and experiments from it." }
                        input type="hidden" name="shared" value="0";
                        button type="submit" { "Stop sharing" }
                    } @else {
                        p { "Yours alone: colleagues signed in do not see it." }
                        input type="hidden" name="shared" value="1";
                        button type="submit" { "Share with colleagues" }
                    }
                }
            } @else {
                p { "This run is " (whose(r, viewer)) "." }
            }
            @if r.state == State::Done {
                p { "A read-only link for a colleague: " a href=(format!("/shared/{}", r.share)) { (format!("/shared/{}", r.share)) } }
            }
        }
    };
    page(&title, body)
}

/// Each policy's money bridge: from the net revenue saving to the net
/// present value, and to the revenue budget impact, step by step (means
/// across replicates), as the report and the workbook give it.
fn bridges(headline: &[Headline]) -> Markup {
    let steps = |steps: &[crate::economics::bridge::Step]| {
        html! {
            div.scroll {
                table {
                    @for s in steps {
                        tr {
                            td { @if s.total { strong { (s.name) } } @else { (s.name) } }
                            td { @if s.total { strong { (money(s.amount.mean)) } } @else { (money(s.amount.mean)) } }
                        }
                    }
                }
            }
        }
    };
    html! {
        @for h in headline {
            @if let Some(b) = &h.bridge {
                h2 { "The money bridge" @if headline.len() > 1 { ": " (h.scenario) } }
                @if let Some(why) = &b.sign_change { p { (why) } }
                p.note { "Means across replicates, as the report's and the workbook's Money bridge give them." }
                h3 { "From the net revenue saving to the net present value" }
                (steps(&b.appraisal))
                h3 { "From the net revenue saving to the revenue budget impact" }
                (steps(&b.budget))
            }
        }
    }
}

/// Who pays and who saves, by financial year: a table and a chart for
/// each policy.
fn who_pays(by_payer: &[ByPayer]) -> Markup {
    html! {
        @if !by_payer.is_empty() {
            h2 { "Who pays and who saves, by financial year" }
            p.note { "Each payer's revenue saving against the baseline in nominal £, as " code { "budget.csv" } " gives it (its \"Total revenue\" lines): positive when the payer saves, negative when it pays more. Over every payer and year it is the revenue budget impact (cash, all payers) of the money bridge above. Rest the pointer on a bar for its value; untick a payer to hide it." }
            @for (k, b) in by_payer.iter().enumerate() {
                @if by_payer.len() > 1 { h3 { (b.scenario) } }
                div.scroll {
                    table {
                        thead { tr { th { "Payer" } @for y in &b.years { th { (y) } } th { "Total" } } }
                        tbody {
                            @for (payer, values) in &b.payers {
                                tr {
                                    td { (payer_words(payer)) }
                                    @for v in values { td { (money(*v)) } }
                                    td { strong { (money(values.iter().sum())) } }
                                }
                            }
                            tr {
                                th { "All payers" }
                                @for y in 0..b.years.len() {
                                    th { (money(b.payers.iter().filter_map(|(_, v)| v.get(y)).sum())) }
                                }
                                th { (money(b.payers.iter().flat_map(|(_, v)| v).sum())) }
                            }
                        }
                    }
                }
                @let series: Vec<crate::serve::chart::Series> = b.payers.iter().map(|(p, v)| crate::serve::chart::Series { name: payer_words(p), values: v.clone() }).collect();
                (crate::serve::chart::bars(&format!("pay{k}"), &format!("Revenue saving by payer and financial year: {}", b.scenario), &b.years, &series))
            }
        }
    }
}

/// A finished run as a comparison shows it.
pub(super) struct Compared {
    pub run: RunRow,
    /// Its interventions, by name.
    pub interventions: String,
    pub headline: Vec<Headline>,
    pub by_payer: Vec<ByPayer>,
}

/// Finished runs side by side: what each ran, its headline and its money,
/// with each payer's saving over the horizon charted run by run.
pub(super) fn compare(runs: &[Compared]) -> Markup {
    let step = |c: &Compared, id: &str| {
        c.headline
            .first()
            .and_then(|h| h.bridge.as_ref())
            .and_then(|b| b.step(id))
            .map(|s| money(s.amount.mean))
            .unwrap_or_else(|| "–".into())
    };
    let mut payers: Vec<&str> = Vec::new();
    for c in runs {
        for (p, _) in c.by_payer.iter().take(1).flat_map(|b| &b.payers) {
            if !payers.contains(&p.as_str()) {
                payers.push(p);
            }
        }
    }
    let saving = |c: &Compared, payer: &str| -> f64 {
        c.by_payer
            .first()
            .and_then(|b| b.payers.iter().find(|(p, _)| p == payer))
            .map_or(0.0, |(_, v)| v.iter().sum())
    };
    let series: Vec<crate::serve::chart::Series> = runs
        .iter()
        .map(|c| crate::serve::chart::Series {
            name: format!("{} (v{}, {})", c.run.name, c.run.version, c.run.place),
            values: payers.iter().map(|p| saving(c, p)).collect(),
        })
        .collect();
    let groups: Vec<String> = payers.iter().map(|p| payer_words(p)).collect();
    page(
        "Runs compared",
        html! {
            p.note { "Each run against its own place's baseline. NPV is after optimism bias and discounting; savings are revenue, in nominal £ over each run's horizon, positive when the payer saves." }
            div.scroll {
                table {
                    thead { tr { th { "" } @for c in runs { th { a href=(format!("/workbench/runs/{}", c.run.id)) { (c.run.name) } } } } }
                    tbody {
                        tr { td { "Place" } @for c in runs { td { (c.run.place) } } }
                        tr { td { "Version" } @for c in runs { td { (c.run.version) } } }
                        tr { td { "Years" } @for c in runs { td { (c.run.design.years.map_or("10 (the baseline's)".to_string(), |y| y.to_string())) } } }
                        tr { td { "Replicates" } @for c in runs { td { (c.run.replicates) } } }
                        tr { td { "Interventions" } @for c in runs { td.text { (c.interventions) } } }
                        tr { td { "NPV median (90%)" } @for c in runs { td { @if let Some(h) = c.headline.first() { (opt_money(h.npv[1])) " (" (opt_money(h.npv[0])) " to " (opt_money(h.npv[2])) ")" } } } }
                        tr { td { "Chance NPV > 0" } @for c in runs { td { (c.headline.first().and_then(|h| h.chance).map(percent).unwrap_or_else(|| "–".into())) } } }
                        tr { td { "Net revenue saving" } @for c in runs { td { (step(c, "net_revenue_saving")) } } }
                        tr { td { "Net present value (mean)" } @for c in runs { td { (step(c, "npv")) } } }
                        tr { td { "Revenue budget impact, cash, all payers" } @for c in runs { td { (step(c, "revenue_budget_impact")) } } }
                        @for p in &payers {
                            tr { td { (payer_words(p)) " saves" } @for c in runs { td { (money(saving(c, p))) } } }
                        }
                    }
                }
            }
            (crate::serve::chart::bars("cmp", "Revenue saving by payer over each run's horizon, run by run", &groups, &series))
            p { a href="/workbench" { "Back to the workbench" } }
        },
    )
}

/// The experiments a finished run can start, and those it has.
fn ask_next(r: &RunRow, seen: &Seen) -> Markup {
    let action = format!("/workbench/runs/{}/ask", r.id);
    let offered: Vec<&Offered> = seen
        .library
        .map(|l| {
            r.design
                .chosen
                .iter()
                .filter_map(|c| l.intervention(&c.id))
                .collect()
        })
        .unwrap_or_default();
    let replicates = |id: &str| {
        html! { label { "Replicates (runs of luck) at each point " input id=(id) name="replicates" inputmode="numeric" size="4" value="4"; } }
    };
    html! {
        h2 { "Ask next" }
        @if !seen.experiments.is_empty() {
            ul {
                @for e in seen.experiments {
                    li { a href=(format!("/workbench/runs/{}", e.id)) { (e.kind.question()) "?" } " — " (state_words(e))
                        @if !e.vary.is_empty() { " (" code { (e.vary) } ")" } }
                }
            }
        }
        form.card method="post" action=(action) {
            h3 { "Which assumptions decide this?" }
            p.note { "Each uncertain assumption moved to the ends of its range, one at a time: which ones move the net present value most. Runs the comparison twice for each assumption." }
            input type="hidden" name="kind" value="sensitivity";
            (replicates("replicates-sensitivity"))
            button type="submit" { "Find out" }
        }
        form.card method="post" action=(action) {
            h3 { "How strong must the effect be?" }
            p.note { "Each intervention's effects scaled from none to more than stated: the strength at which it pays back." }
            input type="hidden" name="kind" value="break-even";
            (replicates("replicates-break-even"))
            button type="submit" { "Find out" }
        }
        @if !offered.is_empty() {
            form.card method="post" action=(action) {
                h3 { "What if the size were different?" }
                p.note { "One intervention's size by year multiplied across a range, the rest as designed." }
                input type="hidden" name="kind" value="sweep";
                label { "Intervention "
                    select name="intervention" {
                        @for o in &offered { option value=(o.id) { (o.name) " (" (o.sizing.unit()) ")" } }
                    }
                }
                label { "From × " input name="from" value="0.5" size="4" inputmode="decimal"; }
                label { "To × " input name="to" value="2" size="4" inputmode="decimal"; }
                label { "Points " input name="points" value="5" size="4" inputmode="numeric"; }
                (replicates("replicates-sweep"))
                button type="submit" { "Find out" }
            }
        }
    }
}

/// A download's size: "12 kB", "3.4 MB".
fn file_size(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{} kB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / (1u64 << 20) as f64)
    }
}

fn opt_money(v: Option<f64>) -> String {
    v.map(money).unwrap_or_else(|| "–".into())
}

fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A payer by its name for people ("Children's services"), as the outputs
/// name it.
fn payer_words(payer: &str) -> String {
    crate::model::Payer::ALL
        .iter()
        .find(|p| p.name() == payer)
        .map_or_else(|| payer.replace('_', " "), |p| p.label().to_string())
}

/// An age group for people: "working age".
fn age_words(group: &str) -> String {
    capitalised(&group.replace('_', " "))
}

/// `text` for a query string.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
