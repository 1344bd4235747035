//! The printed result: one fixed-width row per case, each worker ÷ passthrough ratio, and the
//! machine the numbers came from. Pure formatting, so the layout has unit tests.

use std::fmt::Write as _;

/// What one case measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Case name: `preload`, `preload-ledger`, `passthrough`, `payments`, `ledger`.
    pub case: String,
    /// Events handled.
    pub events: u64,
    /// Wall-clock seconds from start to the last acknowledgement.
    pub seconds: f64,
    /// CPU seconds (user + system) the measured process used in that time.
    pub cpu_seconds: f64,
    /// Peak resident set size of the measured process (its lifetime high-water mark), KiB.
    pub peak_rss_kib: u64,
    /// CPU seconds per wall second the process used right after the run with nothing to do but
    /// answer the bench's progress checks (its cost of waiting), when measured.
    pub idle_cpu_per_second: Option<f64>,
}

impl Row {
    /// Events per wall-clock second.
    pub fn events_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.events as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// CPU seconds per 1,000 events.
    pub fn cpu_per_1k(&self) -> f64 {
        if self.events > 0 {
            self.cpu_seconds * 1000.0 / self.events as f64
        } else {
            0.0
        }
    }

    /// CPU seconds per 1,000 events less the idle rate over the run: the cost of the work itself
    /// when the process spent much of the run waiting (e.g. on the broker).
    pub fn net_cpu_per_1k(&self) -> Option<f64> {
        let idle = self.idle_cpu_per_second? * self.seconds;
        (self.events > 0).then(|| (self.cpu_seconds - idle).max(0.0) * 1000.0 / self.events as f64)
    }

    /// Peak RSS in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

const HEADERS: [&str; 6] = [
    "case",
    "events",
    "seconds",
    "events/s",
    "CPU s / 1k events",
    "peak RSS MiB",
];
const WIDTHS: [usize; 6] = [14, 9, 8, 10, 17, 12];

/// The table: a header, a rule, one line per row; the case left-aligned, numbers right-aligned.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let cells: Vec<String> = HEADERS
        .iter()
        .zip(WIDTHS)
        .enumerate()
        .map(|(i, (h, w))| if i == 0 { format!("{h:<w$}") } else { format!("{h:>w$}") })
        .collect();
    let _ = writeln!(out, "{}", cells.join(" | "));
    let rule: Vec<String> = WIDTHS.iter().map(|w| "-".repeat(*w)).collect();
    let _ = writeln!(out, "{}", rule.join("-+-"));
    for r in rows {
        let [c0, c1, c2, c3, c4, c5] = WIDTHS;
        let _ = writeln!(
            out,
            "{:<c0$} | {:>c1$} | {:>c2$.2} | {:>c3$.0} | {:>c4$.4} | {:>c5$.1}",
            r.case,
            r.events,
            r.seconds,
            r.events_per_second(),
            r.cpu_per_1k(),
            r.peak_rss_mib()
        );
    }
    out
}

/// One line per row with an idle measurement: its idle CPU rate and its CPU per 1k events net of it.
pub fn idle_notes(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows {
        if let (Some(idle), Some(net)) = (r.idle_cpu_per_second, r.net_cpu_per_1k()) {
            let _ = writeln!(
                out,
                "{}: idle {idle:.4} CPU s per s; CPU s / 1k events net of idle over {:.2} s: {net:.4}",
                r.case, r.seconds
            );
        }
    }
    out
}

/// A worker relative to the passthrough: throughput ratio (higher is better, 1.0 = as fast as a
/// raw passthrough) and CPU-per-event ratio (lower is better, 1.0 = as cheap).
pub fn ratios(worker: &Row, passthrough: &Row) -> String {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    format!(
        "{} ÷ passthrough: events/s {:.2}, CPU s / 1k events {:.2}\n",
        worker.case,
        ratio(worker.events_per_second(), passthrough.events_per_second()),
        ratio(worker.cpu_per_1k(), passthrough.cpu_per_1k()),
    )
}

/// The machine and run the numbers belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Cores available to this process.
    pub cores: usize,
    /// `uname -r`.
    pub kernel: String,
    /// Events per case.
    pub events: u64,
}

impl Machine {
    /// Facts about this machine for a run of `events`.
    pub fn current(events: u64) -> Self {
        Self {
            cores: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "unknown".into()),
            events,
        }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "machine: {} cores, kernel {}; N = {} events per case",
            self.cores, self.kernel, self.events
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(case: &str, events: u64, seconds: f64, cpu_seconds: f64) -> Row {
        Row {
            case: case.into(),
            events,
            seconds,
            cpu_seconds,
            peak_rss_kib: 51_200,
            idle_cpu_per_second: None,
        }
    }

    #[test]
    fn derived_figures_follow_from_the_measurement() {
        let r = row("payments", 50_000, 2.5, 4.0);
        assert_eq!(r.events_per_second(), 20_000.0);
        assert_eq!(r.cpu_per_1k(), 0.08);
        assert_eq!(r.peak_rss_mib(), 50.0);
        assert_eq!(row("empty", 0, 0.0, 0.0).cpu_per_1k(), 0.0);
        assert_eq!(row("empty", 0, 0.0, 0.0).events_per_second(), 0.0);
    }

    #[test]
    fn the_table_has_fixed_width_columns() {
        let text = table(&[row("preload", 50_000, 1.25, 0.5), row("payments", 50_000, 2.5, 4.0)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.chars().count() == lines[0].chars().count()));
        assert_eq!(
            lines[0],
            "case           |    events |  seconds |   events/s | CPU s / 1k events | peak RSS MiB"
        );
        assert_eq!(
            lines[3],
            "payments       |     50000 |     2.50 |      20000 |            0.0800 |         50.0"
        );
        assert!(lines[1].starts_with("---------------+-"));
    }

    #[test]
    fn idle_cost_is_taken_out_of_the_net_cpu_figure() {
        let mut r = row("payments", 10_000, 100.0, 4.0);
        assert_eq!(r.net_cpu_per_1k(), None);
        assert_eq!(idle_notes(std::slice::from_ref(&r)), "");
        r.idle_cpu_per_second = Some(0.025);
        assert_eq!(r.net_cpu_per_1k(), Some(0.15));
        assert_eq!(
            idle_notes(&[r]),
            "payments: idle 0.0250 CPU s per s; CPU s / 1k events net of idle over 100.00 s: 0.1500\n"
        );
        let mut busy = row("passthrough", 1000, 1.0, 0.0);
        busy.idle_cpu_per_second = Some(1.0);
        assert_eq!(busy.net_cpu_per_1k(), Some(0.0));
    }

    #[test]
    fn ratios_compare_a_worker_with_the_passthrough() {
        let line = ratios(&row("payments", 1000, 2.0, 0.3), &row("passthrough", 1000, 1.0, 0.1));
        assert_eq!(line, "payments ÷ passthrough: events/s 0.50, CPU s / 1k events 3.00\n");
        let line = ratios(&row("ledger", 1000, 4.0, 1.0), &row("passthrough", 1000, 1.0, 0.1));
        assert_eq!(line, "ledger ÷ passthrough: events/s 0.25, CPU s / 1k events 10.00\n");
    }

    #[test]
    fn machine_facts_name_cores_kernel_and_n() {
        let m = Machine {
            cores: 2,
            kernel: "6.1.0".into(),
            events: 20_000,
        };
        assert_eq!(
            m.to_string(),
            "machine: 2 cores, kernel 6.1.0; N = 20000 events per case"
        );
        assert!(Machine::current(1).cores >= 1);
    }
}
