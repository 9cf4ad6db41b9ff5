//! A real SMTP server in the test process (mailin-embedded) that records what it accepted.
//! Recipients starting with `bounce-` are refused with 550, `tempfail-` with 451. It serves one
//! connection per thread and every app keeps idle pooled connections open, hence many threads.

use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use mailin_embedded::{response, Handler, Response, Server};

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone)]
struct Recorder {
    mails: Arc<Mutex<Vec<Mail>>>,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl Handler for Recorder {
    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("bounce-") {
            response::NO_MAILBOX
        } else if to.starts_with("tempfail-") {
            response::INTERNAL_ERROR
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.buf.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = Mail { to: std::mem::take(&mut self.to), data: String::from_utf8_lossy(&self.buf).into_owned() };
        self.mails.lock().unwrap().push(mail);
        response::OK
    }
}

pub struct SmtpSink {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Recorder { mails: mails.clone(), to: Vec::new(), buf: Vec::new() });
        server.with_name("sink.test").with_num_threads(512).with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpSink { url: format!("smtp://{addr}"), mails }
    }

    /// One sink for the whole test binary; tests keep apart by using their own addresses.
    pub fn shared() -> &'static SmtpSink {
        static SINK: OnceLock<SmtpSink> = OnceLock::new();
        SINK.get_or_init(SmtpSink::start)
    }

    pub fn mails_to(&self, addr: &str) -> Vec<Mail> {
        self.mails.lock().unwrap().iter().filter(|m| m.to.iter().any(|t| t == addr)).cloned().collect()
    }

    pub fn all(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until `addr` has received `n` mails, or panics after `secs`.
    pub async fn wait_for(&self, addr: &str, n: usize, secs: u64) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let got = self.mails_to(addr);
            if got.len() >= n {
                return got;
            }
            assert!(start.elapsed() < Duration::from_secs(secs), "{addr} received {} of {n} mails in {secs}s", got.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Mail {
    fn split(raw: &str) -> (&str, &str) {
        raw.split_once("\r\n\r\n").unwrap_or((raw, ""))
    }

    /// A header's value, unfolded and with RFC 2047 words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        header_in(Self::split(&self.data).0, name)
    }

    /// The decoded body of the first part with this content type.
    pub fn part(&self, content_type: &str) -> Option<String> {
        let ct = self.header("Content-Type")?;
        let boundary = ct.split("boundary=").nth(1)?.trim_matches('"').split(';').next()?.trim_matches('"').to_string();
        let body = Self::split(&self.data).1;
        for part in body.split(&format!("--{boundary}")) {
            let part = part.trim_start_matches("\r\n");
            let (headers, content) = Self::split(part);
            if header_in(headers, "Content-Type").is_some_and(|c| c.starts_with(content_type)) {
                let encoding = header_in(headers, "Content-Transfer-Encoding").unwrap_or_default();
                return Some(if encoding.eq_ignore_ascii_case("base64") {
                    let clean: String = content.chars().filter(|c| !c.is_whitespace()).collect();
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(clean).unwrap()).unwrap()
                } else {
                    content.to_string()
                });
            }
        }
        None
    }

    pub fn text(&self) -> String {
        self.part("text/plain").expect("text part")
    }

    pub fn html(&self) -> String {
        self.part("text/html").expect("html part")
    }
}

fn header_in(headers: &str, name: &str) -> Option<String> {
    let mut unfolded: Vec<String> = Vec::new();
    for line in headers.split("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = unfolded.last_mut() {
                last.push_str(line.trim_start());
                continue;
            }
        }
        unfolded.push(line.to_string());
    }
    unfolded.iter().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| decode_words(v.trim()))
    })
}

/// Decodes `=?utf-8?b?…?=` and `=?utf-8?q?…?=` words.
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| start + 2 + e) else { break };
        let between = rest[..start].trim();
        if !between.is_empty() || out.is_empty() {
            out.push_str(&rest[..start]);
        }
        let word = &rest[start + 2..end];
        let mut parts = word.splitn(3, '?');
        let (_charset, enc, text) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let bytes = if enc.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
        } else {
            let mut b = Vec::new();
            let raw = text.replace('_', " ");
            let raw = raw.as_bytes();
            let mut i = 0;
            while i < raw.len() {
                if raw[i] == b'=' && i + 2 < raw.len() {
                    if let Ok(x) = u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        b.push(x);
                        i += 3;
                        continue;
                    }
                }
                b.push(raw[i]);
                i += 1;
            }
            b
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}
