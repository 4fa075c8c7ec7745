//! Fuzzes the scenario parser: any bytes as a scenario file that may extend
//! the bundled ones. No input may panic, and every rejection must be a clear
//! one-line error naming the file.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use upstream::scenario::{self, Overrides};

const BUNDLED: &[(&str, &str)] = &[
    (
        "baseline.toml",
        include_str!("../../scenarios/baseline.toml"),
    ),
    ("hubs.toml", include_str!("../../scenarios/hubs.toml")),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let top = PathBuf::from("scenarios/fuzz.toml");
    let read = |p: &Path| -> std::io::Result<String> {
        if p == top {
            return Ok(text.to_string());
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    if let Err(e) = scenario::load_from(&top, &Overrides::default(), &read) {
        let m = e.to_string();
        assert!(
            !m.trim().is_empty() && !m.trim().contains('\n'),
            "unclear: {m:?}"
        );
        assert!(
            m.contains("scenarios/"),
            "the error does not name the file: {m:?}"
        );
    }
});
