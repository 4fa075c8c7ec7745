//! Files people hand Upstream (scenarios, tables, parts, a run folder to
//! review) and the text from them that errors quote back.
//!
//! Contract: a scenario or table is a regular file (not a device, a pipe or
//! a folder) named `.toml` or `.csv`, of at most [`MAX_INPUT_BYTES`], in
//! UTF-8; anything else is refused in one line, before more than that is
//! read. Files Upstream wrote itself (a part, a run's published files) are
//! regular files up to a limit of their own. An error quotes at most
//! [`MAX_QUOTE`] characters of what it rejects, escaped ([`quote`]), so no
//! file's content and no control character reaches a terminal or a log
//! whole; a table whose header names none of its columns is not quoted at
//! all ([`check_header`]): it is not a table of that kind, and its first
//! line could be anything (a password file, a process's environment).
//!
//! Text that travels into outputs (names, ids, sources) follows the same
//! rules wherever it comes from, a scenario or a table ([`text_fault`]):
//! no control characters and no characters that reorder or hide text
//! (U+202E, the right-to-left override, makes one name display as another).

use std::fs;
use std::io::{self, Read as _};
use std::path::Path;

use crate::format::{count, size};

/// The largest scenario or table read: 64 MiB.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;
/// The largest file Upstream wrote itself that it reads back (a part holds
/// every replicate's results; a run folder's files, to review or report): 4 GiB.
pub const MAX_WRITTEN_BYTES: u64 = 4 << 30;
/// The most characters of rejected text an error quotes.
pub const MAX_QUOTE: usize = 40;
/// The longest name, id or other short text, in characters.
pub const MAX_NAME: usize = 200;
/// The longest description, source or file path, in characters.
pub const MAX_PROSE: usize = 2_000;

/// The text of the scenario or table at `path`: a regular `.toml` or
/// `.csv` file of at most [`MAX_INPUT_BYTES`], in UTF-8.
pub fn read(path: &Path) -> io::Result<String> {
    let ext = path.extension().and_then(|e| e.to_str());
    if !matches!(ext, Some("toml" | "csv")) {
        return Err(refused(
            "Upstream reads scenarios named .toml and tables named .csv only",
        ));
    }
    String::from_utf8(read_bytes(path, MAX_INPUT_BYTES)?)
        .map_err(|_| refused("it is not text in UTF-8"))
}

/// The bytes of the regular file at `path`, refused if it is larger than
/// `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    // `metadata` follows links without opening: a pipe is refused here
    // rather than waited on for ever.
    let kind = fs::metadata(path)?.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a folder"
        } else {
            "not a regular file (a device, a pipe or a socket)"
        };
        return Err(refused(&format!("it is {what}; give a file")));
    }
    let file = fs::File::open(path)?;
    let over = || {
        refused(&format!(
            "it is over the {} limit for a file Upstream reads",
            size(limit)
        ))
    };
    let stated = file.metadata()?.len();
    if stated > limit {
        return Err(over());
    }
    // Read one byte past the limit: a file that grows, or whose stated size
    // is not its size (as under /proc), is still cut off.
    let mut bytes = Vec::with_capacity(stated as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(over());
    }
    Ok(bytes)
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why.to_string())
}

/// An amount as people write one: "£750k", "1.5m", "£150,000", "2bn",
/// "350000", "-5"; `None` when it is not one (or is not finite). Whether a
/// negative amount makes sense is the caller's to say.
pub fn amount(text: &str) -> Option<f64> {
    let t = text.trim();
    match t.strip_prefix(['-', '−']) {
        Some(rest) => unsigned(rest).map(|v| -v),
        None => unsigned(t),
    }
}

/// An amount without a sign.
fn unsigned(text: &str) -> Option<f64> {
    let t = text.trim().trim_start_matches('£').trim();
    let (digits, times) = match t.to_ascii_lowercase() {
        l if l.ends_with("bn") => (&t[..t.len() - 2], 1e9),
        l if l.ends_with('k') => (&t[..t.len() - 1], 1e3),
        l if l.ends_with('m') => (&t[..t.len() - 1], 1e6),
        _ => (t, 1.0),
    };
    let digits = digits.trim().trim_start_matches('£');
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let clean: String = digits.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    let v = clean.parse::<f64>().ok()? * times;
    v.is_finite().then(|| (v * 100.0).round() / 100.0)
}

/// Amounts one after another, one a year: "£600k, £600k, £1.5m" or
/// "600,000; 1,500,000". A comma between digits with three after it
/// ("1,500,000") groups thousands; any other comma, a semicolon or a
/// space separates amounts. The amount that is not one is the error.
pub fn amounts(text: &str) -> Result<Vec<f64>, String> {
    let chars: Vec<char> = text.chars().collect();
    let grouping = |i: usize| {
        i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.len() >= i + 4
            && chars[i + 1..i + 4].iter().all(char::is_ascii_digit)
            && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit())
    };
    let spaced: String = chars
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            ',' if !grouping(i) => ' ',
            ';' => ' ',
            c => *c,
        })
        .collect();
    spaced
        .split_whitespace()
        .map(|w| amount(w).ok_or_else(|| quote(w)))
        .collect()
}

/// `text` as an error may quote it: control characters and those that
/// reorder or hide text escaped (as `\u{1b}`), and cut to [`MAX_QUOTE`]
/// characters with "…".
pub fn quote(text: &str) -> String {
    quote_up_to(text, MAX_QUOTE)
}

fn quote_up_to(text: &str, most: usize) -> String {
    let mut s = String::new();
    for c in text.chars().take(most) {
        if c.is_control() || is_hidden(c) {
            s.extend(c.escape_unicode());
        } else {
            s.push(c);
        }
    }
    if text.chars().nth(most).is_some() {
        s.push('…');
    }
    s
}

/// A message from a parser or the system that may hold some of what it
/// read (a field's name, a value): escaped, and cut to [`MAX_NAME`]
/// characters with "…".
pub fn reason(message: &str) -> String {
    quote_up_to(message, MAX_NAME)
}

/// Characters that reorder or hide the text around them: the bidirectional
/// embeddings, overrides and isolates, the direction marks, and the
/// zero-width characters that join, split or hide words.
fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200B}'..='\u{200F}'
        | '\u{061C}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}')
}

/// What a piece of text is, for the rules it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// Names, ids, keys and choices: up to [`MAX_NAME`] characters on one
    /// line.
    Name,
    /// A description or source: up to [`MAX_PROSE`] characters, over
    /// several lines if need be.
    Prose,
    /// A file path: up to [`MAX_PROSE`] characters on one line.
    Path,
}

impl TextKind {
    fn limit(self) -> usize {
        match self {
            TextKind::Name => MAX_NAME,
            TextKind::Prose | TextKind::Path => MAX_PROSE,
        }
    }

    /// The rule, as an error states it.
    fn rule(self) -> String {
        let (name, prose) = (count(MAX_NAME as f64), count(MAX_PROSE as f64));
        match self {
            TextKind::Name => format!(
                "a name or other short text may be up to {name} characters (a description or source up to {prose})"
            ),
            TextKind::Prose => format!("a description or source may be up to {prose} characters"),
            TextKind::Path => format!("a file path may be up to {prose} characters"),
        }
    }

    fn allows(self, c: char) -> bool {
        let broken = self == TextKind::Prose && matches!(c, '\n' | '\r' | '\t');
        broken || !(c.is_control() || is_hidden(c))
    }
}

/// The first thing wrong with `text` as a `kind`, in words: too long, or
/// holding a control character or one that reorders or hides text.
pub fn text_fault(text: &str, kind: TextKind) -> Option<String> {
    let n = text.chars().count();
    if n > kind.limit() {
        return Some(format!(
            "expected at most {} characters, found {}; {}",
            count(kind.limit() as f64),
            count(n as f64),
            kind.rule()
        ));
    }
    let (at, c) = text.chars().enumerate().find(|(_, c)| !kind.allows(*c))?;
    let what = if is_hidden(c) {
        "characters that reorder or hide text"
    } else {
        "control characters"
    };
    let allowed = if kind == TextKind::Prose || is_hidden(c) {
        ""
    } else {
        " (line breaks and tabs are allowed only in a description or source)"
    };
    Some(format!(
        "expected text without {what}{allowed}, found U+{:04X} at character {}",
        c as u32,
        at + 1
    ))
}

/// Why a table's row is refused for its number of fields, if it is: it
/// must have as many as the header.
pub fn row_length_fault(fields: usize, header: usize) -> Option<String> {
    (fields != header)
        .then(|| format!("expected {header} fields, as the header has, found {fields}"))
}

/// Why a table's header row is refused: the column at fault, if one, and
/// what was expected.
#[derive(Debug, PartialEq, Eq)]
pub struct HeaderFault {
    /// Where the column at fault stands, counted from 0 (none for a
    /// missing column).
    pub index: Option<usize>,
    /// The column at fault, quoted as an error may show it.
    pub column: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Checks a `what` table's header row: every column one of `columns`, none
/// twice, and every one of `required` present. A header that names none of
/// `columns` is refused without quoting it.
pub fn check_header(
    headers: &csv::StringRecord,
    columns: &[&str],
    required: &[&str],
    what: &str,
) -> Result<(), HeaderFault> {
    let expected = || {
        let names: Vec<&str> = columns.to_vec();
        names.join(", ")
    };
    if !headers.iter().any(|h| columns.contains(&h)) {
        return Err(HeaderFault {
            index: None,
            column: None,
            message: format!(
                "this is not {what}: its first line names none of its columns ({})",
                expected()
            ),
        });
    }
    for (i, h) in headers.iter().enumerate() {
        if !columns.contains(&h) {
            return Err(HeaderFault {
                index: Some(i),
                column: Some(quote(h)),
                message: format!("unknown column \"{}\"; expected {}", quote(h), expected()),
            });
        }
        if headers.iter().take(i).any(|o| o == h) {
            return Err(HeaderFault {
                index: Some(i),
                column: Some(h.to_string()),
                message: format!("the column \"{h}\" is given twice"),
            });
        }
    }
    if let Some(missing) = required.iter().find(|c| !headers.iter().any(|h| h == **c)) {
        return Err(HeaderFault {
            index: None,
            column: Some(missing.to_string()),
            message: format!(
                "the column \"{missing}\" is missing; {what} needs {}",
                required.join(", ")
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_read_as_people_write_them() {
        use super::{amount, amounts};
        assert_eq!(amount("£750k"), Some(750_000.0));
        assert_eq!(amount("1.5m"), Some(1_500_000.0));
        assert_eq!(amount("£150,000"), Some(150_000.0));
        assert_eq!(amount("2bn"), Some(2e9));
        assert_eq!(amount(" 350 000 "), Some(350_000.0));
        assert_eq!(amount("£12.345"), Some(12.35));
        assert_eq!(amount("-5"), Some(-5.0));
        assert_eq!(amount("−£1.5m"), Some(-1.5e6));
        for bad in ["", "k", "abc", "--5", "£", "1e999", "NaN", "inf"] {
            assert_eq!(amount(bad), None, "{bad}");
        }
        assert_eq!(
            amounts("£600k, £600k, £1.5m").unwrap(),
            [600e3, 600e3, 1.5e6]
        );
        assert_eq!(amounts("600,000; 1,500,000").unwrap(), [600e3, 1.5e6]);
        assert_eq!(amounts("600,000,1,500,000").unwrap(), [600e3, 1.5e6]);
        assert_eq!(amounts("100 200").unwrap(), [100.0, 200.0]);
        assert_eq!(amounts("").unwrap(), Vec::<f64>::new());
        assert_eq!(amounts("100, lots").unwrap_err(), "lots");
    }

    use super::*;

    #[test]
    fn a_quote_is_escaped_and_cut_short() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a\0b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
        assert_eq!(quote("abc\u{202E}def"), "abc\\u{202e}def");
        let long = "x".repeat(10_000);
        assert_eq!(quote(&long), format!("{}…", "x".repeat(MAX_QUOTE)));
    }

    #[test]
    fn names_refuse_hidden_and_control_characters() {
        assert_eq!(text_fault("Doncaster", TextKind::Name), None);
        let m = text_fault("Don\u{202E}retsacnod", TextKind::Name).unwrap();
        assert!(
            m.contains("reorder or hide") && m.contains("U+202E at character 4"),
            "{m}"
        );
        assert!(text_fault("a\u{1b}b", TextKind::Name).is_some());
        assert!(text_fault("a\nb", TextKind::Name).is_some());
        assert_eq!(text_fault("a\nb\tc", TextKind::Prose), None);
        assert!(text_fault("a\u{2067}b", TextKind::Prose).is_some());
        assert!(text_fault(&"n".repeat(MAX_NAME + 1), TextKind::Name).is_some());
        assert_eq!(text_fault(&"n".repeat(MAX_NAME), TextKind::Name), None);
    }

    #[test]
    fn a_header_of_another_kind_is_not_quoted() {
        let cols = ["place", "residents"];
        let h = csv::StringRecord::from(vec!["root:x:0:0:root:/root:/bin/bash"]);
        let e = check_header(&h, &cols, &cols, "a places table").unwrap_err();
        assert!(!e.message.contains("root"), "{}", e.message);
        let h = csv::StringRecord::from(vec!["place", "SECRET=hunter2"]);
        let e = check_header(&h, &cols, &cols, "a places table").unwrap_err();
        assert_eq!(e.index, Some(1));
        assert!(e.message.contains("unknown column \"SECRET=hunter2\""));
        let h = csv::StringRecord::from(vec!["place"]);
        let e = check_header(&h, &cols, &cols, "a places table").unwrap_err();
        assert!(
            e.message.contains("\"residents\" is missing"),
            "{}",
            e.message
        );
        let h = csv::StringRecord::from(vec!["place", "place"]);
        assert_eq!(
            check_header(&h, &cols, &cols, "t").unwrap_err().index,
            Some(1)
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.csv");
        fs::write(&ok, "x,y\n").unwrap();
        assert_eq!(read(&ok).unwrap(), "x,y\n");
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let link = dir.path().join("zero.csv");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(
            read(&link)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let fifo = dir.path().join("pipe.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(read(&fifo).unwrap_err().to_string().contains("a pipe"));
        assert!(read(dir.path()).is_err());
        let big = dir.path().join("big.csv");
        fs::write(&big, vec![b'x'; 2049]).unwrap();
        assert!(
            read_bytes(&big, 2048)
                .unwrap_err()
                .to_string()
                .contains("over the")
        );
        assert_eq!(read_bytes(&big, 2049).unwrap().len(), 2049);
        // /proc states a size of 0 and holds more: still cut off.
        let environ = read_bytes(Path::new("/proc/self/environ"), 1);
        assert!(environ.is_err_and(|e| e.to_string().contains("over the")));
        let passwd = dir.path().join("passwd");
        fs::write(&passwd, "root:x:0:0\n").unwrap();
        assert!(read(&passwd).unwrap_err().to_string().contains(".toml"));
    }
}
