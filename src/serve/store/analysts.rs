//! The workbench's accounts: each analyst's name and password (kept as an
//! Argon2 hash, never as typed), and their signed-in sessions (kept as a
//! digest of the cookie's token, so the database alone lets nobody in).
//! An account is made with the server's key, so only the people the key
//! was given to can make one; after that, each signs in as themselves and
//! sees their own runs and those their colleagues share.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{OptionalExtension, params};

use super::{Outcome, Refusal, Store, StoreError, now, token};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS analysts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY,
    analyst INTEGER NOT NULL REFERENCES analysts(id),
    created INTEGER NOT NULL
);
";

/// The most accounts one database holds.
pub const MAX_ANALYSTS: i64 = 1_000;
/// How long a sign-in lasts, in seconds: the cookie's own age.
pub const SESSION_SECONDS: i64 = 30 * 24 * 3600;
/// The fewest and most characters of a password.
pub const PASSWORD_CHARS: (usize, usize) = (10, 200);
/// The most characters of a name.
pub const NAME_CHARS: usize = 60;

/// A signed-in analyst.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analyst {
    /// Their account's number.
    pub id: i64,
    /// Their name, as they gave it.
    pub name: String,
}

/// The digest a session's token is kept as.
fn digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("upstream workbench session {token}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `password`'s Argon2 hash, with a fresh salt.
fn hash(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| StoreError::Password(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Password(e.to_string()))
}

/// Whether `password` is the one hashed as `stored`.
fn matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// An Argon2 hash of nothing anyone can type, checked against when a name
/// has no account, so a wrong name takes as long to refuse as a wrong
/// password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&token()).unwrap_or_default())
}

/// A name and password as an account takes them, or why not.
pub fn account_words(name: &str, password: &str) -> Result<String, Refusal> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Refusal(format!(
            "name: give your name, 1 to {NAME_CHARS} characters"
        )));
    }
    let (least, most) = PASSWORD_CHARS;
    let chars = password.chars().count();
    if chars < least || chars > most {
        return Err(Refusal(format!(
            "password: choose a password of {least} to {most} characters"
        )));
    }
    Ok(name.to_string())
}

impl Store {
    /// Makes an account for `name` with `password` and signs it in: the
    /// account and its session's token. Refused when the name is taken
    /// (in any case), the words are not an account's, or the store holds
    /// [`MAX_ANALYSTS`] accounts. Slow on purpose (the password's hash):
    /// call it off the server's threads.
    pub fn add_analyst(&self, name: &str, password: &str) -> Result<(Analyst, String), Outcome> {
        let name = account_words(name, password)?;
        let hashed = hash(password)?;
        let conn = self.conn();
        let (accounts, taken): (i64, bool) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(name = ?1 COLLATE NOCASE), 0) > 0 FROM analysts",
            [&name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if taken {
            return Err(Refusal(format!(
                "name: there is already an account called \"{}\"; sign in, or choose another name",
                crate::input::quote(&name)
            ))
            .into());
        }
        if accounts >= MAX_ANALYSTS {
            return Err(Refusal(format!(
                "this server holds {MAX_ANALYSTS} accounts, its limit"
            ))
            .into());
        }
        conn.execute(
            "INSERT INTO analysts (name, password, created) VALUES (?1, ?2, ?3)",
            params![name, hashed, now()],
        )?;
        let analyst = Analyst {
            id: conn.last_insert_rowid(),
            name,
        };
        drop(conn);
        let session = self.open_session(analyst.id)?;
        Ok((analyst, session))
    }

    /// Signs `name` in with `password`: the account and its session's
    /// token, or `None` when they do not match an account. Slow on
    /// purpose, as [`Store::add_analyst`].
    pub fn sign_in(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<(Analyst, String)>, StoreError> {
        let found: Option<(i64, String, String)> = self
            .conn()
            .query_row(
                "SELECT id, name, password FROM analysts WHERE name = ?1 COLLATE NOCASE",
                [name.trim()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let stored = found.as_ref().map_or(decoy(), |(_, _, p)| p.as_str());
        let right = matches(password, stored);
        match found {
            Some((id, name, _)) if right => {
                let session = self.open_session(id)?;
                Ok(Some((Analyst { id, name }, session)))
            }
            _ => Ok(None),
        }
    }

    fn open_session(&self, analyst: i64) -> Result<String, StoreError> {
        let session = token();
        let conn = self.conn();
        // Sessions past their age go as new ones come.
        conn.execute(
            "DELETE FROM sessions WHERE created + ?2 < ?1",
            params![now(), SESSION_SECONDS],
        )?;
        conn.execute(
            "INSERT INTO sessions (digest, analyst, created) VALUES (?1, ?2, ?3)",
            params![digest(&session), analyst, now()],
        )?;
        Ok(session)
    }

    /// The analyst signed in with session `token`, if it is one and has
    /// not expired.
    pub fn analyst_of(&self, token: &str) -> Result<Option<Analyst>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT a.id, a.name FROM sessions s JOIN analysts a ON a.id = s.analyst
                 WHERE s.digest = ?1 AND s.created + ?3 >= ?2",
                params![digest(token), now(), SESSION_SECONDS],
                |r| {
                    Ok(Analyst {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Ends session `token`.
    pub fn sign_out(&self, token: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM sessions WHERE digest = ?1", [digest(token)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords_are_taken_within_their_bounds() {
        let (least, most) = PASSWORD_CHARS;
        let name = "n".repeat(NAME_CHARS);
        for (name, chars, ok) in [
            (name.as_str(), least, true),
            ("Jo", least - 1, false),
            ("Jo", most, true),
            ("Jo", most + 1, false),
            (&format!("{name}n"), least, false),
            ("Jo\u{7}", least, false),
            ("  ", least, false),
        ] {
            let said = account_words(name, &"é".repeat(chars));
            assert_eq!(said.is_ok(), ok, "{name:?} {chars}: {said:?}");
        }
        assert_eq!(account_words("  Jo  ", &"p".repeat(least)).unwrap(), "Jo");
    }

    #[test]
    fn a_wrong_name_is_checked_against_a_real_hash_so_it_takes_as_long() {
        assert!(PasswordHash::new(decoy()).is_ok());
        assert!(!matches("", decoy()) && !matches(&token(), decoy()));
    }

    #[test]
    fn an_account_signs_in_with_its_password_alone_and_keeps_no_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let store = Store::open(&path).unwrap();
        let (sam, session) = store
            .add_analyst(" Sam Patel ", "a long passphrase")
            .unwrap();
        assert_eq!(sam.name, "Sam Patel");
        assert_eq!(store.analyst_of(&session).unwrap(), Some(sam.clone()));
        // The name is taken in any case; bad words are refused by field.
        for (name, password, field) in [
            ("sam patel", "another passphrase", "name:"),
            ("", "a long passphrase", "name:"),
            ("Jo", "short", "password:"),
        ] {
            match store.add_analyst(name, password) {
                Err(Outcome::Refused(Refusal(text))) => assert!(text.starts_with(field), "{text}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        // Signing in: the right password, in any case of the name; not a
        // wrong one, nor a name with no account.
        let (again, second) = store
            .sign_in("SAM PATEL", "a long passphrase")
            .unwrap()
            .unwrap();
        assert_eq!(again, sam);
        assert_ne!(second, session);
        assert_eq!(store.analyst_of(&session).unwrap(), Some(sam.clone()));
        assert_eq!(
            store.sign_in("Sam Patel", "a long passphrasf").unwrap(),
            None
        );
        assert_eq!(store.sign_in("Nobody", "a long passphrase").unwrap(), None);
        // Signing out ends that session only; a made-up token is no one.
        store.sign_out(&session).unwrap();
        assert_eq!(store.analyst_of(&session).unwrap(), None);
        assert_eq!(store.analyst_of(&second).unwrap(), Some(sam));
        assert_eq!(store.analyst_of(&token()).unwrap(), None);
        // A session older than its age lets nobody in, and goes when the
        // next one opens.
        store
            .conn()
            .execute(
                "UPDATE sessions SET created = created - ?1",
                [SESSION_SECONDS + 1],
            )
            .unwrap();
        assert_eq!(store.analyst_of(&second).unwrap(), None);
        let (_, third) = store
            .sign_in("Sam Patel", "a long passphrase")
            .unwrap()
            .unwrap();
        let sessions: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sessions, 1);
        assert!(store.analyst_of(&third).unwrap().is_some());
        // Neither the password nor a session's token is in the database.
        drop(store);
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("a long passphrase") && !text.contains(&second));
        }
    }
}
