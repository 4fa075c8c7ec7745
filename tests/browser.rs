//! The report as a reader sees it: rendered, parsed and printed by headless
//! Chromium. Needs Debian's `chromium` package (`.ci/run` installs it), so
//! it is ignored by default: `cargo test --release --test integration browser -- --ignored`.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::upstream;

fn chromium() -> String {
    std::env::var("UPSTREAM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Runs headless Chromium on the report with the flags this machine's closed
/// network needs, returning what it printed.
fn browse(profile: &Path, args: &[&str]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}); install Debian's chromium package",
                chromium()
            )
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs headless Chromium: cargo test --release --test integration browser -- --ignored"]
fn the_report_renders_parses_and_prints_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = upstream(&[
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "3",
        "-q",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = format!("file://{}", dir.join("report.html").display());
    let profile = tmp.path().join("profile");
    let charts = fs::read_dir(dir.join("charts"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "svg")
        .count();

    // Parsed as the browser parses it: every inline chart survives as an
    // SVG element with its title.
    let dom = browse(&profile, &["--dump-dom", &page]);
    assert_eq!(dom.matches("<figure").count(), charts);
    assert_eq!(dom.matches("<svg").count(), charts);
    assert_eq!(dom.matches("aria-labelledby").count(), charts);

    // Rendered: a screenshot of the top of the page, kept for a person to
    // look at, with text and charts on it.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    browse(
        &profile,
        &[
            "--window-size=1280,2400",
            &format!("--screenshot={}", shot.display()),
            &page,
        ],
    );
    let decoder = png::Decoder::new(fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (1280, 2400));
    let step = info.color_type.samples();
    let dark = pixels[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[..3].iter().all(|&c| c < 80))
        .count();
    let share = dark as f64 / (1280.0 * 2400.0);
    assert!(share > 0.005, "the page looks empty ({share:.4} dark)");

    // Printed: a PDF of several pages.
    let pdf = tmp.path().join("report.pdf");
    browse(
        &profile,
        &[
            &format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer",
            &page,
        ],
    );
    let pages = pages(&pdf);
    assert!(pages >= 5, "{pages} pages");
}

/// Pages in a PDF that Chromium printed.
fn pages(pdf: &Path) -> usize {
    let bytes = fs::read(pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let text = String::from_utf8_lossy(&bytes);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

#[test]
#[ignore = "needs headless Chromium: cargo test --release --test integration browser -- --ignored"]
fn the_board_summary_prints_on_at_most_four_pages() {
    // The bundled comparison (six scenarios, with 90% ranges): everything
    // before the technical appendix prints on two to four A4 pages.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = upstream(&[
        "run",
        "-r",
        "8",
        "--years",
        "2",
        "-q",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = fs::read_to_string(dir.join("report.html")).unwrap();
    let cut = report
        .find(&format!("<h2 id=\"{}\"", upstream::report::APPENDIX))
        .expect("the report has a technical appendix");
    let board = tmp.path().join("board.html");
    fs::write(&board, format!("{}</body></html>", &report[..cut])).unwrap();
    let profile = tmp.path().join("profile");
    let print = |page: &Path, pdf: &Path| {
        browse(
            &profile,
            &[
                &format!("--print-to-pdf={}", pdf.display()),
                "--no-pdf-header-footer",
                &format!("file://{}", page.display()),
            ],
        );
        pages(pdf)
    };
    let board_pages = print(&board, &tmp.path().join("board.pdf"));
    let all_pages = print(&dir.join("report.html"), &tmp.path().join("report.pdf"));
    assert!(
        (2..=4).contains(&board_pages),
        "the board summary prints on {board_pages} pages"
    );
    assert!(all_pages > board_pages + 4, "{all_pages} pages in all");
}
