//! CPU time and peak memory of a process, read from `/proc` (no unsafe): `utime + stime` from
//! `/proc/<pid>/stat` divided by the clock tick rate, and `VmHWM` from `/proc/<pid>/status`.
//! The parsers are pure so their edge cases have unit tests.

use std::path::PathBuf;

use crate::error::BenchError;

/// Sum of `utime` and `stime` (fields 14 and 15, in clock ticks) from the text of `/proc/<pid>/stat`.
///
/// The command name (field 2) is in parentheses and may itself hold spaces and parentheses, so
/// fields are counted from the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After the command name the first field is the state (field 3); utime is field 14.
    let mut fields = after_comm.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The value in KiB of a `Name:   123 kB` line of `/proc/<pid>/status` (e.g. `VmHWM`).
pub fn parse_status_kib(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(':')?;
        let mut parts = rest.split_whitespace();
        let value = parts.next()?.parse().ok()?;
        (parts.next() == Some("kB")).then_some(value)
    })
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/<pid>/stat` CPU times.
pub fn clock_ticks_per_second() -> Result<u64, BenchError> {
    let proc_error = |message: String| BenchError::Proc {
        path: "sysconf(_SC_CLK_TCK)".into(),
        message,
    };
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => u64::try_from(ticks).map_err(|e| proc_error(e.to_string())),
        Ok(other) => Err(proc_error(format!("unusable value {other:?}"))),
        Err(e) => Err(proc_error(e.to_string())),
    }
}

/// One process's `/proc` directory.
#[derive(Debug, Clone)]
pub struct ProcFiles {
    dir: PathBuf,
    ticks_per_second: u64,
}

impl ProcFiles {
    /// This process.
    pub fn own() -> Result<Self, BenchError> {
        Ok(Self {
            dir: PathBuf::from("/proc/self"),
            ticks_per_second: clock_ticks_per_second()?,
        })
    }

    /// The process `pid`.
    pub fn of(pid: u32) -> Result<Self, BenchError> {
        Ok(Self {
            dir: PathBuf::from(format!("/proc/{pid}")),
            ticks_per_second: clock_ticks_per_second()?,
        })
    }

    fn read(&self, file: &str) -> Result<(String, String), BenchError> {
        let path = self.dir.join(file);
        let shown = path.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).map_err(|source| BenchError::Io {
            action: "read",
            path: shown.clone(),
            source,
        })?;
        Ok((text, shown))
    }

    /// User plus system CPU seconds used so far.
    pub fn cpu_seconds(&self) -> Result<f64, BenchError> {
        let (text, path) = self.read("stat")?;
        let ticks = parse_stat_cpu_ticks(&text).ok_or_else(|| BenchError::Proc {
            path,
            message: "no utime/stime fields".into(),
        })?;
        Ok(ticks as f64 / self.ticks_per_second as f64)
    }

    /// Peak resident set size so far (`VmHWM`), KiB.
    pub fn peak_rss_kib(&self) -> Result<u64, BenchError> {
        let (text, path) = self.read("status")?;
        parse_status_kib(&text, "VmHWM").ok_or_else(|| BenchError::Proc {
            path,
            message: "no VmHWM line".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (payments) S 1 4242 4242 0 -1 4194560 2155 0 0 0 137 42 0 0 20 0 9 0 5077 \
                        1234567 3000 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn cpu_ticks_are_utime_plus_stime() {
        assert_eq!(parse_stat_cpu_ticks(STAT), Some(137 + 42));
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let odd = STAT.replace("(payments)", "(tokio (rt) worker)");
        assert_eq!(parse_stat_cpu_ticks(&odd), Some(179));
    }

    #[test]
    fn a_truncated_or_garbled_stat_line_is_refused() {
        assert_eq!(parse_stat_cpu_ticks("4242 (payments) S 1 2 3"), None);
        assert_eq!(parse_stat_cpu_ticks("no parenthesis at all"), None);
        assert_eq!(parse_stat_cpu_ticks(&STAT.replace(" 137 ", " x ")), None);
    }

    #[test]
    fn the_peak_rss_is_read_from_its_status_line() {
        let status = "Name:\tpayments\nVmPeak:\t  812344 kB\nVmHWM:\t   53120 kB\nVmRSS:\t   50000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(53_120));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(50_000));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
        assert_eq!(parse_status_kib("VmHWM:\t12 pages\n", "VmHWM"), None);
        // A name that is only a prefix of another must not match it.
        assert_eq!(parse_status_kib("VmHWMX:\t1 kB\n", "VmHWM"), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        let own = ProcFiles::own().expect("own /proc");
        assert!(own.cpu_seconds().expect("cpu") >= 0.0);
        assert!(own.peak_rss_kib().expect("rss") > 0);
    }
}
