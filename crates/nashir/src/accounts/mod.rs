//! Accounts: password hashing (argon2id, bounded in concurrency) and random tokens for
//! sessions, CSRF and the API. The roles and the signed-in `User` are domain types.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD_CHARS: usize = 10;

/// A normalized email or an Arabic message saying what is wrong with it.
pub fn parse_email(s: &str) -> Result<String, String> {
    let e = s.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'));
    if ok {
        Ok(e)
    } else {
        Err(format!("البريد الإلكتروني «{}» غير صالح", s.chars().take(80).collect::<String>()))
    }
}

pub fn check_password_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("كلمة المرور قصيرة: {MIN_PASSWORD_CHARS} أحرف على الأقل"));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Argon2 costs ~19 MiB and tens of milliseconds of one core per call, by design. Unbounded,
/// a burst of logins (or of password changes) would take every core and as much memory as
/// there are requests; this bounds them to one call per core, the rest wait their turn.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// Runs a password hashing job off the async workers, at most one per core at a time.
async fn bounded_hashing<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let _permit = hashing_permits().acquire().await.map_err(|e| anyhow::anyhow!("hashing permits closed: {e}"))?;
    Ok(tokio::task::spawn_blocking(job).await?)
}

/// [`verify_password`] for request handlers: bounded and off the async workers.
pub async fn verify_password_bounded(password: String, hash: String) -> anyhow::Result<bool> {
    bounded_hashing(move || verify_password(&password, &hash)).await
}

/// [`hash_password`] for request handlers: bounded and off the async workers.
pub async fn hash_password_bounded(password: String) -> anyhow::Result<String> {
    bounded_hashing(move || hash_password(&password)).await?
}

/// A hash of a fixed password, verified against when the email is unknown so that a wrong
/// email costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("nashir-dummy-password").unwrap_or_default())
}

/// 256 random bits as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A one-time setup code for the first run: 64 random bits as four groups of four hex
/// digits, short enough to type from a terminal, far too many to guess through a rate limit.
pub fn setup_code() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex = hex::encode(bytes);
    hex.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join("-")
}

/// A setup code as typed, reduced to its hex digits in lower case: dashes, spaces and case do
/// not matter, and digits typed on an Arabic keyboard (٠–٩, ۰–۹) count as 0–9.
pub fn normalize_setup_code(typed: &str) -> String {
    typed
        .chars()
        .filter_map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
            '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
            c if c.is_ascii_hexdigit() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .take(64)
        .collect()
}

/// Tokens are stored as SHA-256: they are already high-entropy, so no salt or slow hash.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets without leaking where they differ (only whether their lengths do).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("كلمة-سر-طويلة").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("كلمة-سر-طويلة", &h));
        assert!(!verify_password("كلمة-سر-خاطئة", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd") || !constant_time_eq("abc", "ab"));
        assert!(!constant_time_eq("abc", "ab") && !constant_time_eq("", "a"));
    }

    #[test]
    fn setup_codes_survive_how_they_are_typed() {
        let code = setup_code();
        assert_eq!(code.len(), 19);
        let plain = normalize_setup_code(&code);
        assert_eq!(plain.len(), 16);
        assert_eq!(normalize_setup_code(&code.to_uppercase().replace('-', " ")), plain);
        assert_eq!(normalize_setup_code("١٢٣٤-ab۵۶"), "1234ab56");
        assert_ne!(setup_code(), code);
    }

    #[test]
    fn emails() {
        assert_eq!(parse_email(" A@B.org ").unwrap(), "a@b.org");
        assert!(parse_email("ab.org").is_err());
        assert!(parse_email("a@b").is_err());
    }
}
