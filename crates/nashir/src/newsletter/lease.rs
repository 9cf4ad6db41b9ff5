//! Who holds a leased delivery row. The queue's lease protects a message being sent from a
//! second sender; when the holder dies (`kill -9`, a crash, a power cut) its rows would wait
//! out the lease. The holder is written on each row as `node/boot/pid/start`, so a process
//! that starts on the same node can tell, from `/proc`, that the holder is gone and take its
//! rows back at once — and a live process (say `serve` beside a `newsletter deliver`) keeps
//! its own.

/// This process as a lease holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOwner {
    /// The host and its process-id namespace: pids are only comparable inside one.
    node: String,
    /// The kernel's boot id: after a reboot, no process of the earlier boot lives.
    boot: String,
    pid: u32,
    /// The process's start time in clock ticks since boot: a reused pid has another one.
    start: String,
}

/// What this process can say about a holder found on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// This very process.
    Me,
    /// A process of this node that no longer runs: its leases can be taken back now.
    Dead,
    /// A live process, or one of another node (nothing here can tell): its lease stands.
    Unknown,
}

impl LeaseOwner {
    /// This process, read from `/proc`. Where there is no `/proc`, the start time is `?` and
    /// no holder is ever judged dead (leases then simply run out).
    pub fn current() -> LeaseOwner {
        let read = |path: &str| std::fs::read_to_string(path).map(|s| s.trim().to_string()).ok();
        let host = read("/etc/hostname").filter(|h| !h.is_empty()).unwrap_or_else(|| "node".into());
        let pid_ns = std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_else(|_| "?".into());
        let pid = std::process::id();
        LeaseOwner {
            node: format!("{}:{}", clean(&host), clean(&pid_ns)),
            boot: read("/proc/sys/kernel/random/boot_id").map(|b| clean(&b)).unwrap_or_else(|| "?".into()),
            pid,
            start: start_time(pid).unwrap_or_else(|| "?".into()),
        }
    }

    /// The text stored in `deliveries.lease_owner`.
    pub fn tag(&self) -> String {
        format!("{}/{}/{}/{}", self.node, self.boot, self.pid, self.start)
    }

    /// Judges the holder written on a row.
    pub fn judge(&self, tag: &str) -> Holder {
        if tag == self.tag() {
            return Holder::Me;
        }
        let parts: Vec<&str> = tag.split('/').collect();
        let [node, boot, pid, start] = parts[..] else { return Holder::Unknown };
        if node != self.node || self.start == "?" || self.boot == "?" {
            return Holder::Unknown;
        }
        if boot != self.boot {
            return Holder::Dead;
        }
        let Ok(pid) = pid.parse::<u32>() else { return Holder::Unknown };
        match start_time(pid) {
            Some(now) if now == start => Holder::Unknown,
            _ => Holder::Dead,
        }
    }

    #[cfg(test)]
    fn with(node: &str, boot: &str, pid: u32, start: &str) -> LeaseOwner {
        LeaseOwner { node: node.into(), boot: boot.into(), pid, start: start.into() }
    }
}

/// A process's start time (field 22 of `/proc/<pid>/stat`), `None` when it does not run.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

/// The separator never appears inside a part.
fn clean(part: &str) -> String {
    part.replace('/', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_dead_only_when_this_node_can_tell() {
        let me = LeaseOwner::current();
        assert_eq!(me.judge(&me.tag()), Holder::Me);
        if me.start == "?" {
            return; // no /proc here: nothing is judged dead, checked below by construction
        }
        // Another process of this node that no longer runs (pid 0 is never a user process).
        let gone = LeaseOwner { pid: u32::MAX - 1, ..me.clone() };
        assert_eq!(me.judge(&gone.tag()), Holder::Dead);
        // This pid, but started at another time: the pid was reused, the holder is gone.
        let reused = LeaseOwner { start: "1".into(), ..me.clone() };
        assert_eq!(me.judge(&reused.tag()), Holder::Dead);
        // An earlier boot of this node.
        let earlier = LeaseOwner { boot: "earlier-boot".into(), ..me.clone() };
        assert_eq!(me.judge(&earlier.tag()), Holder::Dead);
        // A live process of this node (pid 1 runs as long as the node does).
        let init = LeaseOwner { pid: 1, start: start_time(1).unwrap_or_default(), ..me.clone() };
        if !init.start.is_empty() {
            assert_eq!(me.judge(&init.tag()), Holder::Unknown);
        }
        // Another node, or a tag that is not ours: its lease stands.
        assert_eq!(me.judge(&LeaseOwner { node: "elsewhere:ns".into(), ..gone.clone() }.tag()), Holder::Unknown);
        assert_eq!(me.judge("garbage"), Holder::Unknown);
        let no_proc = LeaseOwner::with(&me.node, &me.boot, 7, "?");
        assert_eq!(no_proc.judge(&gone.tag()), Holder::Unknown);
    }
}
