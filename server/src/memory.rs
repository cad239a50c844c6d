//! How much memory this machine (or the container it runs in) has, for
//! defaults that scale with it, such as the block cache.

/// Total memory in bytes: the smaller of the machine's (`/proc/meminfo`)
/// and a cgroup limit, when either can be read.
pub fn total_bytes() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| meminfo_total(&t));
    let limit = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .and_then(|t| t.trim().parse::<u64>().ok());
    match (machine, limit) {
        (Some(m), Some(l)) => Some(m.min(l)),
        (m, l) => m.or(l),
    }
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_total() {
        let text = "MemTotal:       24641612 kB\nMemFree:         1000 kB\n";
        assert_eq!(meminfo_total(text), Some(24_641_612 * 1024));
        assert_eq!(meminfo_total("MemFree: 1 kB"), None);
    }

    #[test]
    fn this_machine_has_some_memory() {
        if cfg!(target_os = "linux") {
            assert!(total_bytes().unwrap() > 64 << 20);
        }
    }
}
