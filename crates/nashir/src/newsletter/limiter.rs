//! In-memory token buckets for sign-ups, per IP and per address. Per node, which is enough to
//! stop a script from mail-bombing an address or filling the table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    per_hour: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_hour: u32) -> RateLimiter {
        RateLimiter { per_hour: f64::from(per_hour), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`; false when the bucket is empty.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget full buckets rather than grow without bound under a flood of addresses.
            let cap = self.per_hour;
            let rate = self.per_hour / 3600.0;
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < cap);
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.per_hour, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_hour / 3600.0).min(self.per_hour);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn empties_then_refuses() {
        let l = super::RateLimiter::new(2);
        assert!(l.allow("a"));
        assert!(l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
    }
}
