//! The commissioner's workbench over HTTP, against the real `upstream
//! serve`: a place chosen from the bundled table and a policy designed on
//! the form run in the browser give the command line's files byte for
//! byte; refusals are shown on the form with what was typed kept; the
//! pages need an account, made with the key, and each analyst sees their
//! own runs and those shared with them; a shared link only its own run; ten people queueing
//! at once lose nothing; a server killed mid-run queues the run again and
//! never shows half a result.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::every_file;
use crate::serve::{Browser, KEY, Page, Server};

/// A browser signed in to a new account of Sam Patel's.
fn analyst(server: &Server) -> Browser {
    account(server, "Sam Patel")
}

/// A browser signed in to a new account, made with the server's key.
fn account(server: &Server, name: &str) -> Browser {
    let mut b = Browser::new(server);
    let p = b.post(
        "/workbench/key",
        &[
            ("key", KEY),
            ("name", name),
            ("password", "correct horse battery"),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    // The cookie holds the session's random token, not the key.
    assert!(
        b.cookies
            .get("upstream_analyst")
            .is_some_and(|c| c.len() == 32 && !c.contains(KEY))
    );
    b
}

/// A small design for Rutland: the hubs and whole-family early help,
/// sized and aimed on the form.
fn small_design<'a>(name: &'a str, years: &'a str, replicates: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("place", "Rutland"),
        ("name", name),
        ("years", years),
        ("replicates", replicates),
        ("take.hubs", "1"),
        ("size.hubs", "£200k; £300k"),
        ("reach.hubs", "2"),
        ("take.family_early_help", "1"),
        ("size.family_early_help", "150,000"),
        ("reach.family_early_help", "all"),
        ("need.family_early_help", "struggling"),
        ("ages.family_early_help", "shown"),
        ("age.family_early_help.children", "1"),
        ("age.family_early_help.working_age", "1"),
        ("payer.family_early_help", "childrens_services"),
        ("go", "run"),
    ]
}

/// A page's text with the HTML escapes of quotes and ampersands undone.
fn text(p: &Page) -> String {
    p.body
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The run a design was queued as, from the answer's redirect.
fn queued(p: &Page) -> String {
    assert_eq!(p.status, 303, "{}", p.body);
    p.location.clone().expect("a redirect to the run's page")
}

/// Waits for the run at `page` to end; its page.
fn ended(b: &mut Browser, page: &str, within: Duration) -> Page {
    let start = Instant::now();
    loop {
        let p = b.get(page);
        assert_eq!(p.status, 200, "{}", p.body);
        if !p.body.contains("http-equiv=\"refresh\"") {
            return p;
        }
        assert!(
            start.elapsed() < within,
            "the run at {page} did not end within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The links of a page under `prefix`.
fn links<'a>(body: &'a str, prefix: &str) -> Vec<&'a str> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with(prefix))
        .collect()
}

/// Downloads run `run`'s scenario files into `dir` and runs them as the
/// command line would; the files it writes.
fn command_line_run(
    b: &Browser,
    run: &str,
    dir: &Path,
    replicates: &str,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    for f in ["baseline.toml", "place.toml", "policy.toml"] {
        let (status, bytes) = b.get_bytes(&format!("{run}/scenario/{f}"));
        assert_eq!(status, 200, "{f}");
        std::fs::write(dir.join(f), bytes).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_upstream"))
        .current_dir(dir)
        .args([
            "run",
            "place.toml",
            "policy.toml",
            "-r",
            replicates,
            "-o",
            "out",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    every_file(&dir.join("out"))
}

#[test]
fn a_run_made_on_the_workbench_gives_the_command_lines_files_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("w.sqlite"));
    let mut b = analyst(&server);
    let home = b.get("/workbench");
    assert!(home.body.contains("Start from your place") && home.body.contains("Doncaster"));
    let form = b.get("/workbench/design?place=Rutland");
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Neighbourhood hub") && form.body.contains("40,476 residents"));
    // With the place's own figure for children looked after, which scales
    // its rates as new-place scales them.
    let mut design = small_design("Hubs and early help", "2", "2");
    design.push(("own.looked_after_children", "40"));
    design.push(("own.ae_attendances", "9,000"));
    let run = queued(&b.post("/workbench/design", &design));
    let page = ended(&mut b, &run, Duration::from_secs(120));
    assert!(page.body.contains("The board summary"), "{}", page.body);
    assert!(page.body.contains("NPV median (90%)"));
    // The run's progress stream ends, saying so, once the run is over.
    let events = b.get(&format!("{run}/events"));
    assert_eq!(events.status, 200);
    assert!(
        events
            .body
            .contains("event: end\ndata: {\"state\":\"done\""),
        "{}",
        events.body
    );
    // Every file the run wrote, fetched over HTTP, is the command line's.
    let cli = command_line_run(&b, &run, tmp.path(), "2");
    // The ages ticked on the form are the policy's aim; the payer left as
    // the library's is written as the library writes it.
    let policy = std::fs::read_to_string(tmp.path().join("policy.toml")).unwrap();
    assert!(
        policy.contains("age_bands = [\"children\", \"working_age\"]")
            && policy.contains("payer = \"childrens_services\""),
        "{policy}"
    );
    assert!(cli.contains_key("report.html") && cli.contains_key("upstream.xlsx"));
    let files: Vec<&str> = links(&page.body, &format!("{run}/files/"));
    assert!(files.len() >= 10, "{files:?}");
    for link in &files {
        let name = link.strip_prefix(&format!("{run}/files/")).unwrap();
        let (status, bytes) = b.get_bytes(link);
        assert_eq!(status, 200, "{name}");
        assert!(
            cli.get(name) == Some(&bytes),
            "{name} differs from the command line's"
        );
    }
    // The outcomes over time are the run's own: the policy's residents in
    // crisis at the end of its first year, as timeseries.csv gives them.
    let series = String::from_utf8(cli["timeseries.csv"].clone()).unwrap();
    let crisis = series
        .lines()
        .find(|l| l.starts_with("Hubs and early help,12,need.crisis,"))
        .expect("the policy's residents in crisis in month 12");
    let mean: f64 = crisis.split(',').nth(3).unwrap().parse().unwrap();
    assert!(page.body.contains("<h2>Outcomes over time</h2>"));
    assert!(
        page.body.contains(&format!(
            "Hubs and early help, end of year 1 (month 12): {} (90%: ",
            upstream::format::count(mean)
        )),
        "{crisis}"
    );
    // The figure given stands beside the baseline's first year, counted as
    // new-place counts it: places held on a day, the mean over the year.
    let first_year: f64 = series
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0] == "Rutland"
                && f[2] == "service.childrens_placement.occupancy"
                && f[1].parse::<u32>().is_ok_and(|m| m <= 12))
            .then(|| f[3].parse::<f64>().unwrap())
        })
        .sum::<f64>()
        / 12.0;
    let row = format!(
        "<td>Children looked after, on a day</td><td>40</td><td>{}</td>",
        upstream::format::count(first_year)
    );
    assert!(page.body.contains(&row), "{row}");
    // Contacts are counted over the year.
    let attendances: f64 = series
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0] == "Rutland"
                && f[2] == "service.ae_attendance.events"
                && f[1].parse::<u32>().is_ok_and(|m| m <= 12))
            .then(|| f[3].parse::<f64>().unwrap())
        })
        .sum();
    let row = format!(
        "<td>A&amp;E attendances in the year</td><td>9,000</td><td>{}</td>",
        upstream::format::count(attendances)
    );
    assert!(page.body.contains(&row), "{row}");
    // Places held are charted first; events each month are folded below.
    let body = text(&page);
    let at = |what: &str| body.find(what).unwrap_or_else(|| panic!("{what}"));
    let placed = at(
        "<h3>Children's placement (looked after): residents placed at the end of each month</h3>",
    );
    let folded = at("Events each month: A&E");
    let events = at("<h3>A&E attendance: events each month</h3>");
    assert!(placed < folded && folded < events);
    // The money bridge and who pays are the run's own figures: every payer's
    // saving over the years adds up to the bridge's revenue budget impact.
    let economics: serde_json::Value = serde_json::from_slice(&cli["economics.json"]).unwrap();
    let budget = economics["appraisals"][0]["bridge"]["budget"]
        .as_array()
        .unwrap();
    let impact = budget.last().unwrap();
    assert_eq!(impact["id"], "revenue_budget_impact");
    let impact = upstream::format::money(impact["amount"]["mean"].as_f64().unwrap());
    let all_payers = page
        .body
        .split("<th>All payers</th>")
        .nth(1)
        .expect("an All payers row");
    let row = all_payers.split("</tr>").next().unwrap();
    assert!(
        row.ends_with(&format!("<th>{impact}</th>")),
        "{row} against {impact}"
    );
    assert!(
        page.body
            .contains("Revenue budget impact, cash, all payers")
    );
    let lines = String::from_utf8(cli["budget.csv"].clone()).unwrap();
    let payer_years = lines
        .lines()
        .filter(|l| l.contains(",revenue,Total revenue,") && !l.starts_with("Rutland,"))
        .count();
    assert!(payer_years >= 12, "{payer_years}");
    assert_eq!(
        page.body.matches("<rect class=\"pay0-").count(),
        payer_years,
        "a bar per payer and year"
    );
    // The policy file states the form's settings.
    let (_, policy) = b.get_bytes(&format!("{run}/scenario/policy.toml"));
    let policy = String::from_utf8(policy).unwrap();
    assert!(policy.contains("value = [200000, 300000]"), "{policy}");
    assert!(policy.contains("neighbourhoods = \"all\""), "{policy}");
    assert!(
        policy.contains("need_at_least = \"struggling\""),
        "{policy}"
    );
    // Without the key, nothing; with the run's shared link, only that run.
    let mut stranger = Browser::new(&server);
    assert_eq!(stranger.get(&run).status, 403);
    stranger
        .cookies
        .insert("upstream_analyst".into(), KEY.into());
    assert_eq!(
        stranger.get(&run).status,
        403,
        "the key itself is not the cookie"
    );
    stranger.cookies.clear();
    assert_eq!(
        stranger.get(&format!("{run}/files/report.html")).status,
        403
    );
    assert_eq!(stranger.get("/workbench/design?place=Rutland").status, 403);
    let share = page
        .body
        .split("/shared/")
        .nth(1)
        .and_then(|s| s.split(['"', '<']).next())
        .expect("a shared link");
    let shared = stranger.get(&format!("/shared/{share}"));
    assert_eq!(shared.status, 200);
    assert!(shared.body.contains("NPV median (90%)") && !shared.body.contains("Cancel"));
    let (status, report) = stranger.get_bytes(&format!("/shared/{share}/files/report.html"));
    assert_eq!((status, &report), (200, &cli["report.html"]));
    assert_eq!(stranger.get("/shared/not-a-token").status, 404);
    // A name outside the run's files is not served.
    for bad in [
        "../w.sqlite",
        "..%2F..%2Fw.sqlite",
        "scenarios/place.toml",
        "nothing.csv",
    ] {
        assert_eq!(b.get(&format!("{run}/files/{bad}")).status, 404, "{bad}");
    }
}

#[test]
fn refusals_are_shown_on_the_form_with_what_was_typed_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("w.sqlite"));
    let mut b = analyst(&server);
    let mut form = small_design("Refused", "2", "2");
    form.retain(|(k, _)| *k != "size.hubs");
    form.push(("size.hubs", "£200k, lots"));
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains(
            "size.hubs: expected an amount in £ for each year, as \"600k; 600k; 1.5m\", found \"lots\""
        ),
        "{}",
        p.body
    );
    assert!(
        text(&p).contains("value=\"£200k, lots\""),
        "what was typed is kept"
    );
    // Checked as it is typed: the same words, with the form's field.
    let p = b.post("/workbench/design/check", &form);
    assert_eq!(p.status, 200, "{}", p.body);
    let c: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(c["refused"]["field"], "size.hubs", "{c}");
    assert!(
        c["refused"]["text"]
            .as_str()
            .unwrap()
            .ends_with("found \"lots\""),
        "{c}"
    );
    // Refused in the scenario loader's own words, as the command line
    // says them, naming the file, the line and the field.
    let mut form = small_design("Too far", "2", "2");
    form.retain(|(k, _)| *k != "reach.hubs");
    form.push(("reach.hubs", "500"));
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 400);
    let said = text(&p);
    let alert = said
        .split("role=\"alert\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(
        alert.starts_with("policy.toml") && alert.contains("targeting"),
        "{alert}"
    );
    let c: serde_json::Value =
        serde_json::from_str(&b.post("/workbench/design/check", &form).body).unwrap();
    assert_eq!(c["refused"]["field"], "reach.hubs", "{c}");
    assert_eq!(c["refused"]["text"], alert, "{c}");
    // Early help aimed at no age, and the hubs paid by no one, are refused.
    let mut form = small_design("No ages", "2", "2");
    form.retain(|(k, _)| !k.starts_with("age."));
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains("ages.family_early_help: tick at least one age group it takes"),
        "{}",
        p.body
    );
    let mut form = small_design("No payer", "2", "2");
    form.push(("payer.hubs", "the_mayor"));
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains("payer.hubs: expected a payer, found \"the_mayor\""),
        "{}",
        p.body
    );
    let mut form = small_design("Too long", "99", "2");
    form.retain(|(k, _)| !k.starts_with("take."));
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains("years: expected a whole number from 1 to 30, found \"99\""),
        "{}",
        p.body
    );
    let mut form = small_design("Nothing", "2", "2");
    form.retain(|(k, _)| !k.starts_with("take."));
    let p = b.post("/workbench/design", &form);
    assert!(
        p.body
            .contains("interventions: choose at least one intervention"),
        "{}",
        p.body
    );
    // A check loads the design and gives its warnings without running it.
    let mut form = small_design("Checked", "2", "2");
    form.retain(|(k, _)| *k != "go" && *k != "size.hubs");
    form.extend([("go", "check"), ("size.hubs", "£50m")]);
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body
            .contains("Checked: the design loads, with these warnings"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("interventions.hubs.annual_budget"),
        "{}",
        p.body
    );
    let c: serde_json::Value =
        serde_json::from_str(&b.post("/workbench/design/check", &form).body).unwrap();
    assert!(c["refused"].is_null(), "{c}");
    assert_eq!(c["warnings"][0]["field"], "size.hubs", "{c}");
    assert!(
        text(&p).contains(c["warnings"][0]["text"].as_str().unwrap()),
        "the warning as typed is the Check's: {c}"
    );
    // The place's own figure scales its rates, and the check says so; a
    // figure that is not a count is refused.
    let mut form = small_design("Own figures", "2", "2");
    form.retain(|(k, _)| *k != "go");
    form.extend([("go", "check"), ("own.looked_after_children", "60")]);
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        text(&p).contains("From your figures") && p.body.contains("60 looked-after children"),
        "{}",
        p.body
    );
    form.push(("own.ae_attendances", "-3"));
    let p = b.post("/workbench/design", &form);
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains("own.ae_attendances: expected a count of 0 or more, found \"-3\""),
        "{}",
        p.body
    );
    // Nothing was queued.
    assert!(b.get("/workbench").body.contains("No runs yet"));
    // A form from another site, and a design without the key, are refused.
    let p = b.post_from(
        "http://elsewhere.example",
        "/workbench/design",
        &small_design("X", "2", "2"),
    );
    assert_eq!(p.status, 403);
    let mut stranger = Browser::new(&server);
    assert_eq!(
        stranger
            .post("/workbench/design", &small_design("X", "2", "2"))
            .status,
        403
    );
    assert_eq!(
        stranger
            .post("/workbench/key", &[("key", "wrong-key-here")])
            .status,
        403
    );
    assert!(b.get("/workbench").body.contains("No runs yet"));
}

#[test]
fn ten_people_queueing_at_once_each_get_their_run_and_a_cancelled_one_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("w.sqlite"));
    let b = analyst(&server);
    let runs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let mut b = b.clone();
                s.spawn(move || {
                    let name = format!("Person {i}");
                    queued(&b.post("/workbench/design", &small_design(&name, "1", "1")))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = runs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    // The last in the queue is cancelled before it starts.
    let mut b = b.clone();
    let last = runs
        .iter()
        .max_by_key(|r| r.rsplit('/').next().unwrap().parse::<i64>().unwrap())
        .unwrap();
    assert_eq!(b.post(&format!("{last}/cancel"), &[]).status, 303);
    for run in &runs {
        let p = ended(&mut b, run, Duration::from_secs(300));
        if run == last {
            assert!(
                p.body.contains("Cancelled") && !p.body.contains("Downloads"),
                "{}",
                p.body
            );
        } else {
            assert!(p.body.contains("The board summary"), "{run}: {}", p.body);
        }
    }
    let home = b.get("/workbench").body;
    assert_eq!(home.matches(">done<").count(), 9, "{home}");
    // Two finished runs side by side; one alone, or a cancelled one, not.
    let id = |r: &String| r.rsplit('/').next().unwrap().to_string();
    let mut finished = runs.iter().filter(|r| *r != last).map(id);
    let (first, second) = (finished.next().unwrap(), finished.next().unwrap());
    let p = b.get(&format!("/workbench/compare?run={first}&run={second}"));
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Runs compared") && p.body.matches("NPV median (90%)").count() == 1);
    assert_eq!(
        p.body.matches("<rect class=\"cmp-").count(),
        2 * 6,
        "a bar per run and payer"
    );
    assert_eq!(
        b.get(&format!("/workbench/compare?run={first}")).status,
        400
    );
    let p = b.get(&format!("/workbench/compare?run={first}&run={}", id(last)));
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains("is not a finished run of a design"),
        "{}",
        p.body
    );
}

#[test]
fn a_server_killed_mid_run_queues_it_again_and_never_shows_half_a_result() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("w.sqlite");
    let server = Server::start(&db);
    let mut b = analyst(&server);
    let run = queued(&b.post("/workbench/design", &small_design("Killed", "10", "8")));
    // Killed as soon as the run has started.
    let start = Instant::now();
    while !b.get(&run).body.contains("Running") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let server = Server::start(&db);
    // The account outlives the server.
    let mut b = Browser::new(&server);
    let p = b.post(
        "/workbench/sign-in",
        &[("name", "Sam Patel"), ("password", "correct horse battery")],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&run);
    assert!(
        !page.body.contains("Downloads") && !page.body.contains("The board summary"),
        "half a result shown: {}",
        page.body
    );
    // The run's progress is streamed as it changes, and the stream ends
    // with the run.
    let events = b.get(&format!("{run}/events"));
    assert!(
        events
            .body
            .contains("event: progress\ndata: {\"state\":\"running\"")
            && events
                .body
                .contains("event: end\ndata: {\"state\":\"done\""),
        "{}",
        events.body
    );
    let page = ended(&mut b, &run, Duration::from_secs(300));
    assert!(page.body.contains("The board summary"), "{}", page.body);
    let cli_dir = tmp.path().join("cli");
    std::fs::create_dir(&cli_dir).unwrap();
    let cli = command_line_run(&b, &run, &cli_dir, "8");
    for name in [
        "economics.json",
        "summary.json",
        "upstream.xlsx",
        "report.html",
    ] {
        let (_, bytes) = b.get_bytes(&format!("{run}/files/{name}"));
        assert!(cli[name] == bytes, "{name} differs from the command line's");
    }
}

/// The command a run's page says gives its files, as arguments.
fn command_of(page: &Page) -> Vec<String> {
    let pre = page
        .body
        .split("<pre>upstream ")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("the page shows its command");
    pre.split_whitespace().map(str::to_string).collect()
}

#[test]
fn experiments_start_from_a_result_and_give_the_command_lines_files() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("w.sqlite"));
    let mut b = analyst(&server);
    let run = queued(&b.post("/workbench/design", &small_design("Asked", "1", "1")));
    let page = ended(&mut b, &run, Duration::from_secs(120));
    assert!(page.body.contains("Ask next"), "{}", page.body);
    // Refused: no such experiment, a sweep of an intervention the policy
    // does not take, and too many points.
    let ask = format!("{run}/ask");
    for (form, says) in [
        (
            vec![("kind", "guess"), ("replicates", "1")],
            "kind: expected",
        ),
        (
            vec![
                ("kind", "sweep"),
                ("replicates", "1"),
                ("intervention", "ta_homes"),
                ("from", "0.5"),
                ("to", "2"),
                ("points", "3"),
            ],
            "intervention: expected one of the policy's interventions",
        ),
        (
            vec![
                ("kind", "sweep"),
                ("replicates", "1"),
                ("intervention", "hubs"),
                ("from", "0.5"),
                ("to", "2"),
                ("points", "40"),
            ],
            "points: expected a whole number from 2 to 11",
        ),
    ] {
        let p = b.post(&ask, &form);
        assert_eq!(p.status, 400, "{says}");
        assert!(text(&p).contains(says), "{says}: {}", p.body);
    }
    let sweep = queued(&b.post(
        &ask,
        &[
            ("kind", "sweep"),
            ("replicates", "1"),
            ("intervention", "hubs"),
            ("from", "0.5"),
            ("to", "2"),
            ("points", "3"),
        ],
    ));
    let break_even = queued(&b.post(&ask, &[("kind", "break-even"), ("replicates", "1")]));
    // An experiment does not start another.
    assert_eq!(
        b.post(
            &format!("{sweep}/ask"),
            &[("kind", "break-even"), ("replicates", "1")]
        )
        .status,
        400
    );
    for (n, (experiment, file)) in [(sweep, "sweep.csv"), (break_even, "break_even.csv")]
        .iter()
        .enumerate()
    {
        let page = ended(&mut b, experiment, Duration::from_secs(300));
        assert!(page.body.contains("Open its page"), "{}", page.body);
        assert!(
            page.body.contains(&format!("href=\"{run}\"")),
            "the page links to its run"
        );
        let args = command_of(&page);
        let dir = tmp.path().join(format!("cli-{n}"));
        std::fs::create_dir(&dir).unwrap();
        for f in ["baseline.toml", "place.toml", "policy.toml"] {
            let (_, bytes) = b.get_bytes(&format!("{experiment}/scenario/{f}"));
            std::fs::write(dir.join(f), bytes).unwrap();
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_upstream"))
            .current_dir(&dir)
            .args(&args)
            .args(["-o", "out", "-q"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cli = every_file(&dir.join("out"));
        assert!(cli.contains_key(*file), "{:?}", cli.keys());
        let listed = links(&page.body, &format!("{experiment}/files/"));
        assert!(listed.iter().any(|l| l.ends_with(file)), "{listed:?}");
        for link in listed {
            let name = link.rsplit("/files/").next().unwrap();
            let (status, bytes) = b.get_bytes(link);
            assert_eq!(status, 200);
            assert!(
                cli.get(name) == Some(&bytes),
                "{name} differs from the command line's"
            );
        }
    }
    let page = b.get(&run);
    assert_eq!(page.body.matches("— done").count(), 2, "{}", page.body);
    // The design run again is its second version: experiments are not
    // versions.
    let again = queued(&b.post("/workbench/design", &small_design("Asked", "1", "1")));
    assert!(b.get(&again).body.contains("version 2 of this policy"));
}

#[test]
fn a_place_of_its_own_neighbourhoods_is_designed_and_run_from_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("w.sqlite"));
    let mut b = analyst(&server);
    let table = "neighbourhood,imd_decile,residents\nNorth End,1,6000\nRiverside,2,5500\nOld Town,3,5000\nHill Top,6,4000\nMeadows,9,3500\n";
    // A bad row is refused naming the table, its line and its column.
    let bad = table.replace("Riverside,2,", "Riverside,12,");
    let p = b.post_files_as(
        "/workbench/place",
        &[("place", "Northtown")],
        "neighbourhoods",
        &[("ours.csv", &bad)],
    );
    assert_eq!(p.status, 400);
    assert!(
        text(&p).contains("neighbourhoods.csv, line 3: imd_decile: expected a whole number from 1 (most deprived) to 10, found \"12\""),
        "{}",
        p.body
    );
    let p = b.post_files_as(
        "/workbench/place",
        &[("place", "Northtown")],
        "neighbourhoods",
        &[("ours.csv", table)],
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("A policy for Northtown")
            && p.body.contains("24,000 residents in 5 neighbourhoods")
    );
    // The design form carries the table with it; the run is the place's.
    let mut form = small_design("Northtown hubs", "1", "1");
    form.retain(|(k, _)| !matches!(*k, "place" | "take.family_early_help"));
    form.extend([("place", "Northtown"), ("neighbourhoods", table)]);
    let run = queued(&b.post("/workbench/design", &form));
    let page = ended(&mut b, &run, Duration::from_secs(120));
    assert!(
        page.body.contains("Place: <strong>Northtown</strong>")
            && page.body.contains("The board summary"),
        "{}",
        page.body
    );
    let (_, place) = b.get_bytes(&format!("{run}/scenario/place.toml"));
    let place = String::from_utf8(place).unwrap();
    assert!(
        place.contains("\"North End\"") && place.contains("residents = 24000"),
        "{place}"
    );
    // Its next version keeps the place.
    let again = b.get(&format!(
        "/workbench/design?place=Northtown&from={}",
        run.rsplit('/').next().unwrap()
    ));
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again.body.contains("24,000 residents in 5 neighbourhoods")
            && again.body.contains("value=\"Northtown hubs\"")
    );
}

#[test]
fn each_analyst_sees_their_own_runs_and_those_shared_with_them() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("w.sqlite"));
    let mut ana = account(&server, "Ana");
    let mut ben = account(&server, "Ben");
    let run = queued(&ana.post("/workbench/design", &small_design("Ana's hubs", "2", "1")));
    let page = ended(&mut ana, &run, Duration::from_secs(120));
    assert!(page.body.contains("The board summary") && page.body.contains("Yours alone"));
    assert!(
        ana.get("/workbench")
            .body
            .contains(&format!("href=\"{run}\""))
    );
    // Ben sees nothing of Ana's run: it is answered as no run at all.
    assert!(
        !ben.get("/workbench")
            .body
            .contains(&format!("href=\"{run}\""))
    );
    let id = run.rsplit('/').next().unwrap();
    for path in [
        run.clone(),
        format!("{run}/events"),
        format!("{run}/files/report.html"),
        format!("{run}/scenario/policy.toml"),
        format!("/workbench/design?place=Rutland&from={id}"),
    ] {
        assert_eq!(ben.get(&path).status, 404, "{path}");
    }
    let mine = queued(&ben.post("/workbench/design", &small_design("Ben's hubs", "2", "1")));
    ended(&mut ben, &mine, Duration::from_secs(120));
    let other = mine.rsplit('/').next().unwrap();
    assert_eq!(
        ben.get(&format!("/workbench/compare?run={id}&run={other}"))
            .status,
        404
    );
    // Shared, Ben sees it as Ana's, and can compare it and start his own
    // experiment from it; he cannot cancel it or stop its sharing.
    assert_eq!(
        ben.post(&format!("{run}/share"), &[("shared", "1")]).status,
        404
    );
    assert_eq!(
        ana.post(&format!("{run}/share"), &[("shared", "1")]).status,
        303
    );
    let seen = ben.get(&run);
    assert_eq!(seen.status, 200);
    assert!(
        text(&seen).contains("This run is Ana's, shared."),
        "{}",
        seen.body
    );
    assert!(text(&ben.get("/workbench")).contains("Ana's, shared"));
    assert_eq!(
        ben.get(&format!("/workbench/compare?run={id}&run={other}"))
            .status,
        200
    );
    assert_eq!(
        ben.post(&format!("{run}/share"), &[("shared", "0")]).status,
        403
    );
    assert_eq!(ben.post(&format!("{run}/cancel"), &[]).status, 403);
    let experiment = queued(&ben.post(
        &format!("{run}/ask"),
        &[("kind", "break-even"), ("replicates", "1")],
    ));
    assert!(text(&ben.get(&experiment)).contains("Yours alone"));
    // Ana stops sharing: Ben's own experiment stays his.
    assert_eq!(
        ana.post(&format!("{run}/share"), &[("shared", "0")]).status,
        303
    );
    assert_eq!(ben.get(&run).status, 404);
    assert_eq!(ben.get(&experiment).status, 200);
    assert_eq!(ana.get(&experiment).status, 404);
    // Signing in again takes the password; a wrong one, a wrong key or a
    // name already taken are refused, and signing out ends the session.
    let mut again = Browser::new(&server);
    for (path, form, status) in [
        (
            "/workbench/sign-in",
            vec![("name", "ana"), ("password", "wrong horse battery")],
            403,
        ),
        (
            "/workbench/sign-in",
            vec![("name", "Nobody"), ("password", "correct horse battery")],
            403,
        ),
        (
            "/workbench/key",
            vec![
                ("key", "not-the-key"),
                ("name", "Cy"),
                ("password", "correct horse battery"),
            ],
            403,
        ),
        (
            "/workbench/key",
            vec![
                ("key", KEY),
                ("name", "ANA"),
                ("password", "correct horse battery"),
            ],
            400,
        ),
        (
            "/workbench/key",
            vec![("key", KEY), ("name", "Cy"), ("password", "short")],
            400,
        ),
    ] {
        assert_eq!(again.post(path, &form).status, status, "{path} {form:?}");
    }
    assert!(!again.cookies.contains_key("upstream_analyst"));
    let p = again.post(
        "/workbench/sign-in",
        &[("name", "ana"), ("password", "correct horse battery")],
    );
    assert_eq!(p.status, 303);
    assert_eq!(again.get(&run).status, 200);
    assert_eq!(again.post("/workbench/sign-out", &[]).status, 303);
    assert_eq!(again.get(&run).status, 403);
    assert_eq!(ana.get(&run).status, 200, "another session of Ana's stays");
}
