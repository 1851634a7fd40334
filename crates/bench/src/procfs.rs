//! Resident memory of a process from `/proc/<pid>/status` (Linux).

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
}
