//! `upstream break-even`'s page and charts, drawn with the report's toolkit.

use std::fmt::Write;

use crate::format::money;
use crate::report::html::{list, standalone, table};
use crate::report::words::html;

/// `upstream break-even`'s page: each lever's break-even sentence, as the
/// terminal and break_even.csv give it, and its mean net present value at
/// every point of its grid.
fn break_even_page(
    b: &super::BreakEvens,
    replicates: u32,
    seed: u64,
    parameters_drawn: usize,
) -> String {
    let title = format!(
        "Upstream: how strong must each effect be? Against {}",
        b.scenarios[0]
    );
    let lede = format!(
        "Each effect's multiplier (and each engagement) of every intervention a scenario changes, moved alone from no effect to twice its stated change with {replicates} replicates and the same seed ({seed}) at every point; the break-even is where the mean net present value first turns positive, interpolated between points."
    );
    let mut out = String::new();
    let no_bands = crate::published::no_bands(replicates);
    if let Some(why) = &no_bands {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", html(why));
    }
    // What the replicates cover, with or without bands.
    if parameters_drawn > 0 || no_bands.is_none() {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            html(&super::bands_cover(parameters_drawn))
        );
    }
    for (s, name) in b.scenarios.iter().enumerate().skip(1) {
        let _ = writeln!(
            out,
            "<h2{} id=\"scenario-{s}\">{}</h2>",
            if s == 1 { " class=\"first\"" } else { "" },
            html(name)
        );
        let levers: Vec<&super::Threshold> =
            b.levers.iter().filter(|l| &l.scenario == name).collect();
        if levers.is_empty() {
            out.push_str("<p>No lever to move: it changes no caseload intervention with an engagement or an effect.</p>\n");
            continue;
        }
        let readings: Vec<String> = levers.iter().map(|l| l.reading()).collect();
        let words: Vec<&str> = readings.iter().map(String::as_str).collect();
        list(&mut out, &words);
        let points = levers[0].grid.len();
        let strengths: Vec<String> = (0..points)
            .map(|i| format!("{:.0}%", 100.0 * levers[0].strength(levers[0].grid[i])))
            .collect();
        let mut head: Vec<&str> = vec!["Lever"];
        head.extend(strengths.iter().map(String::as_str));
        let rows: Vec<Vec<String>> = levers
            .iter()
            .map(|l| {
                let mut row = vec![html(&l.label)];
                row.extend(l.npv.iter().map(|v| html(&money(*v))));
                row
            })
            .collect();
        let mut numeric = vec![true; head.len()];
        numeric[0] = false;
        let _ = writeln!(
            out,
            "<p>Mean net present value against the baseline at each share of the stated change (0% is no effect, 100% as stated):</p>"
        );
        table(&mut out, &head, &numeric, &rows);
    }
    let _ = writeln!(
        out,
        "<footer><h2 id=\"reproduce\">Reproducing this</h2>\n<p>Upstream {}; seed {seed}; {replicates} replicates a point. The same command, version and files give the same numbers, byte for byte, whatever the number of threads.</p></footer>",
        html(env!("CARGO_PKG_VERSION"))
    );
    standalone(&title, &lede, &out)
}

/// Its page, as (name, contents): `report.html`, each lever's break-even
/// in words and its net present value along its grid.
pub(super) fn page(
    b: &super::BreakEvens,
    replicates: u32,
    seed: u64,
    parameters_drawn: usize,
) -> Vec<(String, Vec<u8>)> {
    vec![(
        crate::published::REPORT_FILE.to_string(),
        break_even_page(b, replicates, seed, parameters_drawn).into_bytes(),
    )]
}
