//! Every team's standing in a game, side by side: the ranking after the
//! latest round and the charts by round, for the class screen and the
//! debrief; and the class screen itself, the projector's read-only page.
//! Every figure is one of [`RoundResults`]', named as the team pages name
//! it.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::chart::{self, Line};
use super::pages::page;
use super::store::{GameRow, Team, round_name};
use crate::format::{count, money};
use crate::game::RoundResults;
use crate::game::{Standing, ranking};

/// Each team's standing, in the order `teams` gives.
pub(super) fn standings<'a>(
    teams: &'a [Team],
    results: &'a [(i64, RoundResults)],
) -> Vec<Standing<'a>> {
    teams
        .iter()
        .map(|team| {
            Standing::new(
                &team.name,
                team.joined,
                results
                    .iter()
                    .filter(|(t, _)| *t == team.id)
                    .map(|(_, r)| r),
            )
        })
        .collect()
}

/// The ranking as a table: net present value so far, how sure, and
/// crisis-months avoided so far.
pub(super) fn ranking_table(standings: &[Standing]) -> Markup {
    let ranked = ranking(standings);
    html! {
        div.scroll tabindex="0" {
            table {
                tr { th { "Place" } th.name { "Team" } th { "Net present value so far" } th { "Runs of luck above £0" }
                     th { "Crisis-months avoided so far" } th { "Place on crisis-months" } }
                @for (place, (s, crisis_place)) in ranked.iter().enumerate() {
                    @let r = s.latest().expect("ranked teams have results");
                    tr { td { (place + 1) } td.name { (s.name) }
                         td { (money(r.npv_so_far.mean)) }
                         td { (format!("{:.0}%", r.probability_npv_positive * 100.0)) }
                         td { (count(r.crisis_months_avoided_so_far.mean)) }
                         td { (crisis_place) } }
                }
            }
        }
        // Below the table, not in its scrolling box: a phone shows it whole.
        p.note { "Ranked on net present value so far; figures are means over the runs of luck, against no change." }
    }
}

/// Net present value and crisis-months avoided so far, by round, a line
/// per team; `id` keeps two pages' charts apart.
pub(super) fn charts(id: &str, standings: &[Standing], played: u32) -> Markup {
    let rounds: Vec<String> = (1..=played).map(|r| format!("Round {r}")).collect();
    let lines = |figure: fn(&RoundResults) -> crate::metrics::Band| -> Vec<Line> {
        standings
            .iter()
            .filter_map(|s| {
                let mean = s.by_round(played, figure)?;
                // The class sees means: every team's band at once would
                // hide the lines; a team's own page draws its band.
                Some(Line {
                    name: s.name.to_string(),
                    p5: mean.clone(),
                    p95: mean.clone(),
                    mean,
                })
            })
            .collect()
    };
    let npv = lines(|r| r.npv_so_far);
    if played == 0 || npv.is_empty() {
        return html! {};
    }
    html! {
        div.charts {
        (chart::rounds(&format!("{id}-npv"), "Net present value so far against no change, by round (means)", &rounds, &npv, money))
        (chart::rounds(&format!("{id}-crisis"), "Crisis-months avoided so far against no change, by round (means)", &rounds, &lines(|r| r.crisis_months_avoided_so_far), count))
        }
    }
}

/// A QR code of `text` as SVG, drawn module by module with the standard's
/// quiet zone, or nothing when `text` is too long for one.
pub(super) fn qr(text: &str) -> Markup {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return html! {};
    };
    let width = code.width();
    let dark: String = code
        .to_colors()
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == qrcode::Color::Dark)
        .map(|(i, _)| format!("M{},{}h1v1h-1z", i % width + 4, i / width + 4))
        .collect();
    let side = width + 8;
    html! {
        svg.qr viewBox=(format!("0 0 {side} {side}")) role="img" aria-label=(format!("QR code for {text}")) shape-rendering="crispEdges" {
            rect width=(side) height=(side) fill="#fff" {}
            path d=(dark) fill="#000" {}
        }
    }
}

/// The class screen's script: a page of its own, as the pages' policy
/// lets in only the server's own script.
pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("screen.js"),
    )
        .into_response()
}

const SCREEN_STYLE: &str = "
main{max-width:90rem}
.join{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:center}
.join .address{font-size:1.6rem;font-weight:700;overflow-wrap:anywhere}
svg.qr{width:11rem;height:11rem}
ul.teams{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}
ul.teams li{background:#fff;border:1px solid #ccc;padding:.3rem .8rem}
ul.teams li.decided{border-color:#1b7a3a;background:#e9f6ee}
";

/// What the class screen shows, gathered by the server.
pub(super) struct Screen<'a> {
    pub(super) game: &'a GameRow,
    /// The address teams open, or why there is none to show.
    pub(super) join: Result<String, String>,
    pub(super) standings: &'a [Standing<'a>],
    /// Whether each team (in the standings' order) has decided the round
    /// now open.
    pub(super) decided: &'a [bool],
    /// The shocks announced, as sentences.
    pub(super) news: Vec<String>,
}

/// How often the class screen brings itself up to date, in seconds.
pub(super) const REFRESH_SECONDS: u32 = 15;

/// The class screen: how to join, who has decided, and after each round the
/// ranking and the charts. It has no controls, brings itself up to date
/// (its script, `screen.js`, fetches it again every [`REFRESH_SECONDS`]),
/// and shows no one's private link.
pub(super) fn screen(s: &Screen) -> Markup {
    let game = s.game;
    let round = game.next_round();
    let over = game.played >= game.setup.rounds;
    let decided = s.decided.iter().filter(|d| **d).count();
    page(
        &format!("{} — class screen", game.name),
        html! {
            script src="/games/screen.js" defer {}
            style { (PreEscaped(SCREEN_STYLE)) }
            div #screen data-refresh=(REFRESH_SECONDS) {
            section.card.join {
                @match &s.join {
                    Ok(address) => {
                        (qr(&format!("{address}?code={}", game.code)))
                        div {
                            p { "Join at" } p.address { (address) }
                            p { "with the code " span.code { (game.code) } }
                        }
                    }
                    Err(why) => div {
                        p { "Join with the code " span.code { (game.code) } }
                        p.warning { (why) }
                    }
                }
            }
            h2 { @if over { "All " (game.setup.rounds) " rounds played" }
                 @else if game.closed { "Playing " (round_name(round)) "…" }
                 @else if round == 0 { "The practice round: " (decided) " of " (s.standings.len()) " teams have decided" }
                 @else { "Round " (round) " of " (game.setup.rounds) ": " (decided) " of " (s.standings.len()) " teams have decided" } }
            @if s.standings.is_empty() { p { "No team has joined yet." } }
            @if !over {
                ul.teams {
                    @for (st, d) in s.standings.iter().zip(s.decided) {
                        li.decided[*d] { (st.name) ": " @if *d { "decided" } @else { "deciding" } }
                    }
                }
            }
            @if !s.news.is_empty() { section.card { h2 { "News" } ul { @for n in &s.news { li { (n) } } } } }
            @if game.played > 0 {
                h2 { "After " (round_name(game.played)) }
                (ranking_table(s.standings))
                (charts("screen", s.standings, game.played))
            }
            p.note { "This screen brings itself up to date every " (REFRESH_SECONDS) " seconds; reload it if its browser runs no script." }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_square_with_a_quiet_zone_and_nothing_when_too_long() {
        let svg = qr("http://192.168.1.20:8080/?code=ABC234").into_string();
        let code = qrcode::QrCode::new(b"http://192.168.1.20:8080/?code=ABC234").unwrap();
        let side = code.width() + 8;
        assert!(
            svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")),
            "{svg}"
        );
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == qrcode::Color::Dark)
            .count();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        // No module in the quiet zone: the first is at 4 or more.
        assert!(!svg.contains("M3,") && !svg.contains(",3h1"));
        assert!(qr(&"x".repeat(8_000)).into_string().is_empty());
    }
}
