//! A local SMTP sink for the newsletter benchmark: accepts everything, counts messages and
//! prints the rate once a second. `cargo run --release --example smtp_sink -- 127.0.0.1:2525`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailin_embedded::{response, Handler, Response, Server};

#[derive(Clone)]
struct Counter {
    messages: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl Handler for Counter {
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.messages.fetch_add(1, Ordering::Relaxed);
        response::OK
    }
}

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:2525".into());
    let counter = Counter { messages: Arc::new(AtomicU64::new(0)), bytes: Arc::new(AtomicU64::new(0)) };
    let (messages, bytes) = (counter.messages.clone(), counter.bytes.clone());
    std::thread::spawn(move || {
        let mut first: Option<(Instant, u64)> = None;
        let mut last = 0;
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let n = messages.load(Ordering::Relaxed);
            if n != last {
                let (t0, n0) = *first.get_or_insert((Instant::now(), last));
                let rate = (n - n0) as f64 / t0.elapsed().as_secs_f64().max(1e-3);
                println!("{n} messages, {} KiB, {:.0}/s since the first", bytes.load(Ordering::Relaxed) / 1024, rate);
                last = n;
            }
        }
    });
    let mut server = Server::new(counter);
    server.with_name("sink.local").with_num_threads(128);
    server.with_addr(addr.as_str()).expect("address");
    println!("SMTP sink on {addr}");
    server.serve().expect("serve");
}
