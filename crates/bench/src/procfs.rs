//! Resident memory (`/proc/<pid>/status`) and CPU time (`/proc/<pid>/stat`) of processes (Linux).

use anyhow::Context;

/// Resident set sizes of a process, in MiB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// `VmHWM`: the peak resident set, in MiB (since start, or since the last [`reset_peak`]).
    pub peak_mib: f64,
    /// `VmRSS`: the current resident set, in MiB.
    pub current_mib: f64,
}

/// Parses `VmHWM` and `VmRSS` (given in kB) from the text of `/proc/<pid>/status`.
///
/// # Errors
/// A field is missing or not a number.
pub fn parse_status(status: &str) -> anyhow::Result<Memory> {
    Ok(Memory { peak_mib: field_kib(status, "VmHWM")? / 1024.0, current_mib: field_kib(status, "VmRSS")? / 1024.0 })
}

fn field_kib(status: &str, name: &str) -> anyhow::Result<f64> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
        .with_context(|| format!("no {name} line in /proc/<pid>/status"))?;
    let mut words = line.split_whitespace();
    let value: f64 = words
        .next()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{name} is not a number: {:?}", line.trim()))?;
    match words.next() {
        Some("kB") | None => Ok(value),
        Some(unit) => anyhow::bail!("{name} has an unexpected unit {unit:?}"),
    }
}

/// Reads the resident memory of process `pid`.
///
/// # Errors
/// The process is gone, or its status cannot be read or parsed.
pub fn memory(pid: u32) -> anyhow::Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&status).with_context(|| format!("parsing {path}"))
}

/// Resets the peak resident set (`VmHWM`) of process `pid` to its current size by writing `5`
/// to `/proc/<pid>/clear_refs` (Linux ≥ 4.0, same user), so the next peak covers one call only.
///
/// # Errors
/// The kernel or permissions refuse it; the peak then counts from the process's start.
pub fn reset_peak(pid: u32) -> anyhow::Result<()> {
    let path = format!("/proc/{pid}/clear_refs");
    std::fs::write(&path, "5").with_context(|| format!("writing {path}"))
}

/// Clock ticks per second of the CPU times in `/proc/<pid>/stat` (`USER_HZ`, `sysconf(_SC_CLK_TCK)`):
/// 100 on Linux, part of its user-space ABI (see proc(5)).
pub const TICKS_PER_SECOND: f64 = 100.0;

/// Parses the CPU time a process has used, user plus system (`utime` + `stime`, fields 14 and 15),
/// in clock ticks, from the text of `/proc/<pid>/stat`. The command name (field 2) is read past
/// its closing parenthesis, since it may hold spaces and parentheses itself.
///
/// # Errors
/// The text is not of that shape.
pub fn parse_cpu_ticks(stat: &str) -> anyhow::Result<u64> {
    let after_name = &stat[stat.rfind(')').context("no `)` after the command name in /proc/<pid>/stat")? + 1..];
    // Field 3 (state) is the first word after the name, so fields 14 and 15 are words 11 and 12.
    let mut words = after_name.split_whitespace().skip(11);
    let mut field = |name: &str| -> anyhow::Result<u64> {
        words.next().and_then(|w| w.parse().ok()).with_context(|| format!("no {name} in /proc/<pid>/stat"))
    };
    Ok(field("utime")? + field("stime")?)
}

/// The CPU time process `pid` has used so far, in clock ticks ([`TICKS_PER_SECOND`]).
///
/// # Errors
/// The process is gone, or its stat cannot be read or parsed.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_cpu_ticks(&stat).with_context(|| format!("parsing {path}"))
}

/// The CPU time used so far by every process whose command name is `comm` (e.g. `postgres`: the
/// server, its background workers and each connection's backend), in clock ticks. A process that
/// ends between two readings takes its time with it, so compare readings of long-lived processes.
///
/// # Errors
/// `/proc` cannot be listed.
pub fn cpu_ticks_of(comm: &str) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").context("listing /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(name) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else { continue };
        if name.trim_end() == comm {
            total += cpu_ticks(pid).unwrap_or(0);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kib_into_mib() {
        let status = "Name:\ttessera\nVmPeak:\t  900000 kB\nVmHWM:\t   153600 kB\nVmRSS:\t    51200 kB\nThreads:\t3\n";
        let memory = parse_status(status).unwrap();
        assert_eq!(memory, Memory { peak_mib: 150.0, current_mib: 50.0 });
    }

    #[test]
    fn missing_or_bad_fields_are_errors() {
        assert!(parse_status("VmRSS:\t1 kB\n").unwrap_err().to_string().contains("VmHWM"));
        assert!(parse_status("VmHWM:\tlots kB\nVmRSS:\t1 kB\n").is_err());
        assert!(parse_status("VmHWM:\t1 MB\nVmRSS:\t1 kB\n").is_err());
        // `VmHWMX` is not `VmHWM`.
        assert!(parse_status("VmHWMX:\t1 kB\nVmRSS:\t1 kB\n").is_err());
    }

    #[test]
    fn reads_this_process() {
        let memory = memory(std::process::id()).unwrap();
        assert!(memory.current_mib > 0.5, "a test binary is resident: {memory:?}");
        assert!(memory.peak_mib >= memory.current_mib, "{memory:?}");
    }

    #[test]
    fn peak_reset_brings_the_peak_down_to_the_current_size() {
        let pid = std::process::id();
        // Touch 64 MiB, then free it, so the peak is clearly above the current size.
        let big = vec![1u8; 64 << 20];
        assert_eq!(big.iter().step_by(4096).map(|&b| u64::from(b)).sum::<u64>(), (64 << 20) / 4096);
        drop(big);
        let before = memory(pid).unwrap();
        assert!(before.peak_mib >= 64.0, "{before:?}");
        if reset_peak(pid).is_ok() {
            let after = memory(pid).unwrap();
            assert!(after.peak_mib < before.peak_mib - 32.0, "{before:?} then {after:?}");
        }
    }

    #[test]
    fn a_process_that_does_not_exist_is_an_error() {
        assert!(memory(u32::MAX).is_err());
    }

    #[test]
    fn cpu_ticks_are_user_plus_system_time() {
        // A command name with a space and a parenthesis; utime 1234, stime 56.
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 56 0 0 20 0 9 0 100 1000000 2000";
        assert_eq!(parse_cpu_ticks(stat).unwrap(), 1290);
        assert!(parse_cpu_ticks("4242 tokio S 1").is_err());
        assert!(parse_cpu_ticks("4242 (tokio) S 1 2 3").is_err());
    }

    #[test]
    fn this_process_uses_cpu_time_and_is_counted_by_name() {
        let pid = std::process::id();
        let before = cpu_ticks(pid).unwrap();
        // Spin until the counter moves 5 ticks (50 ms of CPU); 30 s of wall time is the give-up.
        let (give_up, mut x, mut after) =
            (std::time::Instant::now() + std::time::Duration::from_secs(30), 0u64, before);
        while after < before + 5 && std::time::Instant::now() < give_up {
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            after = cpu_ticks(pid).unwrap();
        }
        assert!(after >= before + 5, "spinning for 30 s added {} ticks", after - before);
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
        assert!(cpu_ticks_of(comm.trim_end()).unwrap() >= after);
        assert_eq!(cpu_ticks_of("no-such-command-here").unwrap(), 0);
    }
}
