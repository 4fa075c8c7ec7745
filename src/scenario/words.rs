//! Parser messages in the words of people writing scenarios: no "sequence",
//! "variant" or "invalid type"; a near-miss name gets "did you mean"; a field
//! that was renamed or retired says what replaced it; money gets an example.

/// Fields a scenario may still carry from an earlier version, and what to
/// write instead.
const RETIRED: &[(&str, &str)] = &[
    (
        "risk_top_percent",
        "it is now `risk_top_share`, a share from 0 to 1 like every other share (0.02 for the top 2%)",
    ),
    (
        "birth_share",
        "it is no longer used: births are now whatever keeps the starting age structure steady (docs/MODEL.md, \"A steady place\"); remove it",
    ),
];

/// Fields that hold pounds, one number a year.
const MONEY_BY_YEAR: &[&str] = &["annual_budget", "envelope", "savings_target"];

/// A serde or TOML message about `field` (its last name, if known), in plain
/// words.
pub(super) fn plain(message: &str, field: Option<&str>) -> String {
    let m = message.trim();
    // A whole number out of its type's range is named by the field's own
    // range, not the type's ("0 to 4,294,967,295" residents).
    if let Some((_, range)) = WHOLE_RANGES.iter().find(|(f, _)| Some(*f) == field)
        && let Some((before, _)) = m.split_once(", expected u")
    {
        let found = before
            .strip_prefix("invalid value: ")
            .or_else(|| before.strip_prefix("invalid type: "))
            .unwrap_or(before);
        return format!("expected {range}, found {}", found_words(found));
    }
    if let Some(rest) = m.strip_prefix("unknown field `") {
        return unknown_field(rest);
    }
    if let Some(rest) = m.strip_prefix("unknown variant `") {
        return unknown_choice(rest);
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "something else"));
        let mut out = format!(
            "expected {}, found {}",
            expected_words(expected),
            found_words(found)
        );
        if field.is_some_and(|f| MONEY_BY_YEAR.contains(&f)) {
            out.push_str(
                "; write money as pounds, one number a year (or one number for every year), e.g. \
                 annual_budget = [2_000_000, 2_100_000]",
            );
        }
        return out;
    }
    if let Some((found, expected)) = m
        .strip_prefix("invalid length ")
        .and_then(|rest| rest.split_once(", expected an array of length "))
    {
        return format!("expected {expected} numbers in the list, found {found}");
    }
    type_names(m)
}

/// A TOML syntax message, with the commonest slip explained: thousands
/// written with commas.
pub(super) fn toml_syntax(message: &str, line_text: &str) -> String {
    let commas = line_text.as_bytes().windows(5).any(|w| {
        w[0].is_ascii_digit() && w[1] == b',' && w[2..].iter().all(|b| b.is_ascii_digit())
    });
    if commas {
        "numbers cannot contain commas: write 2_000_000 (underscores may separate thousands)".into()
    } else {
        format!("not valid TOML: {}", message.trim())
    }
}

fn unknown_field(rest: &str) -> String {
    let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
    if let Some((_, instead)) = RETIRED.iter().find(|(old, _)| *old == name) {
        return format!("`{name}` is not a field any more: {instead}");
    }
    let known = ticked(tail);
    match nearest(name, &known) {
        _ if known.is_empty() => format!("unknown field `{name}`: this table takes no fields"),
        Some(near) => format!(
            "unknown field `{name}`: did you mean `{near}`? (the fields here are {})",
            list(&known)
        ),
        None => format!(
            "unknown field `{name}`; the fields here are {}",
            list(&known)
        ),
    }
}

fn unknown_choice(rest: &str) -> String {
    let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
    let known = ticked(tail);
    match nearest(name, &known) {
        Some(near) => format!(
            "`{name}` is not one of {}: did you mean `{near}`?",
            list(&known)
        ),
        None => format!("`{name}` is not one of {}", list(&known)),
    }
}

/// The names in backticks in `text`, in order.
fn ticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known name closest to `name`, if it is close enough to be a slip:
/// the same ignoring case, or within a few edits for its length.
pub fn nearest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    if let Some(same) = known.iter().find(|k| k.to_lowercase() == lower) {
        return Some(same);
    }
    let allowed = (name.chars().count() / 4).clamp(1, 3);
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|&(d, _)| d <= allowed)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn expected_words(e: &str) -> String {
    match e {
        "a sequence" => "a list in square brackets, such as [1, 2]".into(),
        "f64" | "a number" => "a number".into(),
        "a map" => "a table".into(),
        e if e.starts_with("struct ") => "a table of fields".into(),
        e if e.starts_with("an array of length ") => {
            format!("a list of {} numbers", &e["an array of length ".len()..])
        }
        e => type_names(&format!("expected {e}"))
            .trim_start_matches("expected ")
            .to_string(),
    }
}

fn found_words(f: &str) -> String {
    let inner = |s: &str| s.trim_matches(|c| c == '`' || c == '"').to_string();
    if let Some(n) = f.strip_prefix("integer ") {
        format!("the number {}", inner(n))
    } else if let Some(n) = f.strip_prefix("floating point ") {
        format!("the number {}", inner(n))
    } else if let Some(s) = f.strip_prefix("string ") {
        format!("the text \"{}\"", inner(s))
    } else if let Some(b) = f.strip_prefix("boolean ") {
        inner(b)
    } else {
        match f {
            "sequence" => "a list".into(),
            "map" => "a table".into(),
            other => other.into(),
        }
    }
}

/// Whole-number fields whose accepted range is narrower than their type's,
/// by their name, with the range as validation states it.
const WHOLE_RANGES: [(&str, &str); 3] = [
    ("residents", "1 to 50,000,000 residents"),
    ("neighbourhoods", "1 to 1,000 neighbourhoods"),
    ("horizon_years", "1 to 30 years"),
];

/// serde's words for types, in the words of people writing scenarios.
fn type_names(m: &str) -> String {
    let mut out = m.trim().to_string();
    for (from, to) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65,535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4,294,967,295",
        ),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected text in quotes"),
    ] {
        out = out.replace(from, to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_number_out_of_range_is_named_by_the_fields_own_range() {
        let m = "invalid value: integer `-5`, expected u32";
        assert_eq!(
            plain(m, Some("residents")),
            "expected 1 to 50,000,000 residents, found the number -5"
        );
        assert_eq!(
            plain(
                "invalid value: integer `-3`, expected u32",
                Some("horizon_years")
            ),
            "expected 1 to 30 years, found the number -3"
        );
        assert!(plain(m, Some("places")).contains("0 to 4,294,967,295"));
        // The ranges stated are those validation applies.
        let years = format!("1 to {} years", super::super::compile::MAX_YEARS);
        assert!(WHOLE_RANGES.iter().any(|(_, r)| *r == years));
    }

    #[test]
    fn messages_are_in_plain_words() {
        let cases = [
            (
                "unknown field `anual_budget`, expected one of `name`, `annual_budget`, `caseload`",
                None,
                "unknown field `anual_budget`: did you mean `annual_budget`?",
            ),
            (
                "unknown field `zzz`, expected one of `name`, `annual_budget`",
                None,
                "unknown field `zzz`; the fields here are `name`, `annual_budget`",
            ),
            (
                "unknown field `risk_top_percent`, expected one of `risk_top_n`",
                None,
                "`risk_top_percent` is not a field any more: it is now `risk_top_share`",
            ),
            (
                "unknown variant `casload`, expected one of `caseload`, `assets`, `places`",
                None,
                "`casload` is not one of `caseload`, `assets`, `places`: did you mean `caseload`?",
            ),
            (
                "invalid type: string \"2m\", expected a number",
                Some("annual_budget"),
                "expected a number, found the text \"2m\"; write money as pounds",
            ),
            (
                "invalid type: map, expected a sequence",
                Some("age_bands"),
                "expected a list in square brackets, such as [1, 2], found a table",
            ),
            (
                "invalid type: integer `5`, expected a string",
                None,
                "expected text in quotes, found the number 5",
            ),
            (
                "invalid length 2, expected an array of length 4",
                None,
                "expected 4 numbers in the list, found 2",
            ),
        ];
        for (raw, field, want) in cases {
            let got = plain(raw, field);
            assert!(got.starts_with(want), "{raw:?} became {got:?}");
            for jargon in ["sequence", "variant", "invalid type"] {
                assert!(!got.contains(jargon), "{got:?}");
            }
        }
    }

    #[test]
    fn commas_in_numbers_are_explained() {
        let m = toml_syntax("unexpected leading zero", "annual_budget = [2,000,000]");
        assert!(m.starts_with("numbers cannot contain commas"), "{m}");
        let m = toml_syntax("expected newline", "residents = 200,000");
        assert!(m.starts_with("numbers cannot contain commas"), "{m}");
        let m = toml_syntax("expected `=`", "name \"x\"");
        assert_eq!(m, "not valid TOML: expected `=`");
        // A list of small numbers is not a thousands slip.
        let m = toml_syntax("expected `]`", "age_band_cuts = [18, 65, 85");
        assert_eq!(m, "not valid TOML: expected `]`");
    }
}
