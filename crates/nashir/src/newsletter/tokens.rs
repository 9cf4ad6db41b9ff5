//! Signed, expiring tokens for links in mails and for anonymous forms. A token is
//! `purpose.subject.expiry.mac` with an HMAC-SHA256 over the first three parts; the key is
//! generated on first start and kept in the database, so every node of a site shares it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::{Store, StoreResult};

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms a pending subscription.
    Confirm,
    /// Opens preferences and unsubscribes (the link in every mail).
    Manage,
    /// The double-submit token of an anonymous form.
    Form,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Confirm => "c",
            Purpose::Manage => "m",
            Purpose::Form => "f",
        }
    }
}

#[derive(Clone)]
pub struct Signer {
    key: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("الرابط غير صالح")]
    Invalid,
    #[error("انتهت صلاحية الرابط")]
    Expired,
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer { key: key.into() }
    }

    /// The site's signing key, created with 32 random bytes the first time it is needed.
    pub async fn load_or_create(store: &Store) -> StoreResult<Signer> {
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh).map_err(|e| crate::store::StoreError::Corrupt(format!("no randomness: {e}")))?;
        let value = store.newsletter_token_key(&hex::encode(fresh)).await?;
        let key = hex::decode(value).map_err(|_| crate::store::StoreError::Corrupt("newsletter token key is not hex".into()))?;
        Ok(Signer::new(&key))
    }

    fn mac(&self, payload: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(payload.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn sign(&self, purpose: Purpose, subject: &str, expires_at: i64) -> String {
        let payload = format!("{}.{}.{}", purpose.tag(), subject, expires_at);
        let mac = self.mac(&payload);
        format!("{payload}.{mac}")
    }

    /// The subject of a valid token of this purpose, checked at time `now`.
    pub fn verify(&self, purpose: Purpose, token: &str, now: i64) -> Result<String, TokenError> {
        if token.len() > 512 {
            return Err(TokenError::Invalid);
        }
        let (payload, mac) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let expected = self.mac(payload);
        // Constant-time comparison: the MAC must not be guessable byte by byte.
        if mac.len() != expected.len() || mac.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return Err(TokenError::Invalid);
        }
        let mut parts = payload.splitn(3, '.');
        let (tag, rest) = (parts.next().ok_or(TokenError::Invalid)?, payload.get(2..).ok_or(TokenError::Invalid)?);
        if tag != purpose.tag() {
            return Err(TokenError::Invalid);
        }
        let (subject, expiry) = rest.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Invalid)?;
        if expiry < now {
            return Err(TokenError::Expired);
        }
        Ok(subject.to_string())
    }

    /// A random nonce for a form and its signed token; the nonce goes in a cookie, the token in
    /// the form, and a POST must bring both.
    pub fn form_pair(&self, now: i64) -> (String, String) {
        let mut nonce = [0u8; 16];
        getrandom::getrandom(&mut nonce).expect("the OS provides randomness");
        let nonce = hex::encode(nonce);
        let token = self.sign(Purpose::Form, &nonce, now + 6 * 3600);
        (nonce, token)
    }

    pub fn check_form(&self, cookie_nonce: Option<&str>, token: &str, now: i64) -> bool {
        match (cookie_nonce, self.verify(Purpose::Form, token, now)) {
            (Some(nonce), Ok(subject)) => !nonce.is_empty() && nonce == subject,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tampering() {
        let s = Signer::new(b"k");
        let t = s.sign(Purpose::Manage, "42", 1000);
        assert_eq!(s.verify(Purpose::Manage, &t, 999).unwrap(), "42");
        assert_eq!(s.verify(Purpose::Manage, &t, 1001), Err(TokenError::Expired));
        assert_eq!(s.verify(Purpose::Confirm, &t, 999), Err(TokenError::Invalid));
        assert_eq!(s.verify(Purpose::Manage, &t.replace(".42.", ".43."), 999), Err(TokenError::Invalid));
        assert_eq!(Signer::new(b"other").verify(Purpose::Manage, &t, 999), Err(TokenError::Invalid));
        assert_eq!(s.verify(Purpose::Manage, "garbage", 0), Err(TokenError::Invalid));
        let (nonce, form) = s.form_pair(0);
        assert!(s.check_form(Some(&nonce), &form, 10));
        assert!(!s.check_form(Some("other"), &form, 10));
        assert!(!s.check_form(None, &form, 10));
    }
}
