//! Where the benchmark's CPU goes: the process's user + system seconds (`getrusage`), and
//! each live thread's from `/proc/self/task/*/stat`, grouped by thread name with a
//! trailing number dropped (`mmcl-abuse-7` -> `mmcl-abuse`), so the daemon's stages
//! (`mmcl-encoder`, `mmcl-aligner`, `mmcl-src-*`, `mmcl-predictor`, `control-client`) can
//! be told from each other and from the abusers. A thread that ended is in the process's
//! figure only.

use std::collections::BTreeMap;

/// User + system CPU seconds of this process so far (every thread, ended ones included).
pub fn process_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0;
    if !ok {
        return 0.0;
    }
    // SAFETY: initialised by the successful call above.
    let u = unsafe { usage.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

/// CPU seconds of the live threads so far, by thread name group (empty without /proc).
pub fn by_thread() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    // SAFETY: sysconf reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if let Some((name, t)) = thread_ticks(&stat) {
            *out.entry(group(name)).or_insert(0.0) += t as f64 / ticks;
        }
    }
    out
}

/// `after - before` per group (a group only in `after` counts from zero).
pub fn since(
    after: &BTreeMap<String, f64>,
    before: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .collect()
}

/// A thread's name and utime + stime from its `stat` line. The name sits in parentheses
/// and may hold spaces, so the fields are counted after the last `)`.
fn thread_ticks(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?;
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3 of proc(5), utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// The name without a trailing `-N` or `N`.
fn group(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let trimmed = trimmed.strip_suffix('-').unwrap_or(trimmed);
    match trimmed.is_empty() {
        true => name.to_string(),
        false => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_the_name_and_the_cpu_ticks() {
        let line = "4242 (mmcl-abuse-7) S 1 2 3 4 5 6 7 8 9 10 120 30 0 0 20 0 1";
        assert_eq!(thread_ticks(line), Some(("mmcl-abuse-7", 150)));
        let spaced = "1 (a b) c) R 1 2 3 4 5 6 7 8 9 10 1 2 0";
        assert_eq!(thread_ticks(spaced), Some(("a b) c", 3)));
        assert_eq!(thread_ticks("garbage"), None);
        assert_eq!(thread_ticks("1 (x) R 1 2"), None);
    }

    #[test]
    fn threads_group_without_their_number() {
        assert_eq!(group("mmcl-abuse-12"), "mmcl-abuse");
        assert_eq!(group("mmcl-encoder"), "mmcl-encoder");
        assert_eq!(group("worker3"), "worker");
        assert_eq!(group("42"), "42");
    }

    #[test]
    fn this_process_has_cpu_and_threads() {
        let t0 = by_thread();
        let spin = (0..2_000_000u64).fold(0u64, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        assert!(process_seconds() > 0.0);
        assert!(!t0.is_empty());
    }
}
