//! Results: samples per case and peer, medians, ratios and targets, shown
//! as a table, as JSON, or as an SVG bar chart; and the progress line.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};

use serde_json::{json, Value};

/// Whether a bigger number is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Throughput, rates.
    Higher,
    /// Latency, memory.
    Lower,
}

/// A goal for a comparison of two peers' medians.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// `numerator / denominator >= bound`.
    RatioAtLeast(&'static str, &'static str, f64),
    /// `numerator / denominator <= bound`.
    RatioAtMost(&'static str, &'static str, f64),
    /// `numerator - denominator <= bound` (in the case's unit).
    DiffAtMost(&'static str, &'static str, f64),
}

impl Target {
    fn peers(&self) -> (&'static str, &'static str) {
        match *self {
            Target::RatioAtLeast(a, b, _)
            | Target::RatioAtMost(a, b, _)
            | Target::DiffAtMost(a, b, _) => (a, b),
        }
    }

    fn describe(&self) -> String {
        match *self {
            Target::RatioAtLeast(a, b, x) => format!("{a}/{b} >= {x:.2}"),
            Target::RatioAtMost(a, b, x) => format!("{a}/{b} <= {x:.2}"),
            Target::DiffAtMost(a, b, x) => format!("{a} - {b} <= {x}"),
        }
    }
}

/// One row: a metric measured for several peers over several rounds.
#[derive(Debug, Clone)]
pub struct Case {
    /// The scenario it belongs to.
    pub scenario: &'static str,
    /// What was measured, e.g. `aes128gcm 16KiB send`.
    pub name: String,
    /// The unit of the samples.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// Samples per peer, in the order peers were first seen.
    pub samples: Vec<(String, Vec<f64>)>,
    /// Goals checked for this row.
    pub targets: Vec<Target>,
    /// Whether the row belongs in the SVG chart.
    pub chart: bool,
}

/// Summary of one peer's samples.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// The median.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

fn summarize(values: &[f64]) -> Summary {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Summary {
        median,
        min: sorted[0],
        max: sorted[n - 1],
    }
}

/// The `q` quantile (0..=1) of `values` (sorted in place), nearest rank.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

impl Case {
    /// The summary of `peer`'s samples, if it was measured.
    pub fn summary(&self, peer: &str) -> Option<Summary> {
        self.samples
            .iter()
            .find(|(p, v)| p == peer && !v.is_empty())
            .map(|(_, v)| summarize(v))
    }

    /// `a`'s median over `b`'s, if both were measured.
    pub fn ratio(&self, a: &str, b: &str) -> Option<f64> {
        let denominator = self.summary(b)?.median;
        (denominator != 0.0).then(|| self.summary(a).map(|s| s.median / denominator))?
    }

    /// Whether `target` is met (`None`: a peer is missing).
    pub fn check(&self, target: &Target) -> Option<bool> {
        let (a, b) = target.peers();
        let (ma, mb) = (self.summary(a)?.median, self.summary(b)?.median);
        Some(match *target {
            Target::RatioAtLeast(..) | Target::RatioAtMost(..) if mb == 0.0 => return None,
            Target::RatioAtLeast(_, _, x) => ma / mb >= x,
            Target::RatioAtMost(_, _, x) => ma / mb <= x,
            Target::DiffAtMost(_, _, x) => ma - mb <= x,
        })
    }
}

/// Samples of one scenario, case by case.
pub struct Collector {
    scenario: &'static str,
    /// The cases, in the order they were first recorded.
    pub cases: Vec<Case>,
    /// Ratios shown for every case where both peers are present.
    pub ratios: Vec<(&'static str, &'static str)>,
    /// Notes printed under the table (checks made, caveats).
    pub notes: Vec<String>,
}

impl Collector {
    /// An empty collector.
    pub fn new(scenario: &'static str, ratios: &[(&'static str, &'static str)]) -> Collector {
        Collector {
            scenario,
            cases: Vec::new(),
            ratios: ratios.to_vec(),
            notes: Vec::new(),
        }
    }

    /// Declares a case (unit, direction, targets) before samples come in.
    pub fn case(
        &mut self,
        name: &str,
        unit: &'static str,
        better: Better,
        targets: &[Target],
        chart: bool,
    ) {
        if self.cases.iter().any(|c| c.name == name) {
            return;
        }
        self.cases.push(Case {
            scenario: self.scenario,
            name: name.to_string(),
            unit,
            better,
            samples: Vec::new(),
            targets: targets.to_vec(),
            chart,
        });
    }

    /// Adds one sample of `peer` to the case `name` (declared before).
    pub fn add(&mut self, name: &str, peer: &str, value: f64) {
        let case = self
            .cases
            .iter_mut()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("case {name} not declared"));
        match case.samples.iter_mut().find(|(p, _)| p == peer) {
            Some((_, values)) => values.push(value),
            None => case.samples.push((peer.to_string(), vec![value])),
        }
    }

    /// A note printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

fn format_value(v: f64) -> String {
    let a = v.abs();
    if a >= 100_000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The human-readable table of one scenario.
pub fn table(collector: &Collector, rounds: usize) -> String {
    let mut peers: Vec<String> = Vec::new();
    for case in &collector.cases {
        for (peer, _) in &case.samples {
            if !peers.contains(peer) {
                peers.push(peer.clone());
            }
        }
    }
    let ratios: Vec<(&str, &str)> = collector
        .ratios
        .iter()
        .copied()
        .filter(|(a, b)| collector.cases.iter().any(|c| c.ratio(a, b).is_some()))
        .collect();
    let mut header = vec!["case".to_string(), "unit".to_string()];
    header.extend(peers.iter().cloned());
    header.extend(ratios.iter().map(|(a, b)| format!("{a}/{b}")));
    let mut rows = vec![header];
    for case in &collector.cases {
        let mut row = vec![case.name.clone(), case.unit.to_string()];
        for peer in &peers {
            row.push(
                case.summary(peer)
                    .map_or("-".to_string(), |s| format_value(s.median)),
            );
        }
        for (a, b) in &ratios {
            let cell = match case.ratio(a, b) {
                None => "-".to_string(),
                Some(r) => {
                    let verdict = case
                        .targets
                        .iter()
                        .filter(|t| t.peers() == (*a, *b))
                        .filter_map(|t| case.check(t))
                        .fold(None, |acc: Option<bool>, ok| {
                            Some(acc.unwrap_or(true) && ok)
                        });
                    match verdict {
                        Some(true) => format!("{r:.3} ok"),
                        Some(false) => format!("{r:.3} MISS"),
                        None => format!("{r:.3}"),
                    }
                }
            };
            row.push(cell);
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let rounds = if rounds == 1 {
        "one round; ratios".to_string()
    } else {
        format!("median of {rounds} rounds; ratios of medians")
    };
    let _ = writeln!(out, "\n== {} ({rounds}) ==", collector.scenario);
    for (n, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i < 2 {
                let _ = write!(line, "{cell:<w$}  ", w = widths[i]);
            } else {
                let _ = write!(line, "{cell:>w$}  ", w = widths[i]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
        if n == 0 {
            let _ = writeln!(out, "{}", "-".repeat(line.trim_end().len()));
        }
    }
    let mut targets = Vec::new();
    for case in &collector.cases {
        for target in &case.targets {
            if let Some(ok) = case.check(target) {
                let (a, b) = target.peers();
                let value = match target {
                    Target::DiffAtMost(..) => {
                        let d = case.summary(a).map(|s| s.median).unwrap_or(0.0)
                            - case.summary(b).map(|s| s.median).unwrap_or(0.0);
                        format!("{d:+.0} {}", case.unit)
                    }
                    _ => format!("{:.3}", case.ratio(a, b).unwrap_or(f64::NAN)),
                };
                targets.push(format!(
                    "  {} {}: {} (is {value})",
                    if ok { "met " } else { "MISS" },
                    case.name,
                    target.describe()
                ));
            }
        }
    }
    if !targets.is_empty() {
        let _ = writeln!(out, "targets:");
        for t in targets {
            let _ = writeln!(out, "{t}");
        }
    }
    for note in &collector.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The JSON objects of one scenario: one per case.
pub fn json(collector: &Collector, rounds: usize) -> Vec<Value> {
    collector
        .cases
        .iter()
        .map(|case| {
            let mut peers = serde_json::Map::new();
            for (peer, values) in &case.samples {
                if values.is_empty() {
                    continue;
                }
                let s = summarize(values);
                peers.insert(
                    peer.clone(),
                    json!({"median": s.median, "min": s.min, "max": s.max, "samples": values}),
                );
            }
            let mut ratios = serde_json::Map::new();
            for (a, b) in &collector.ratios {
                if let Some(r) = case.ratio(a, b) {
                    ratios.insert(format!("{a}/{b}"), json!(r));
                }
            }
            let targets: Vec<Value> = case
                .targets
                .iter()
                .filter_map(|t| {
                    case.check(t)
                        .map(|ok| json!({"target": t.describe(), "met": ok}))
                })
                .collect();
            json!({
                "scenario": case.scenario,
                "case": case.name,
                "unit": case.unit,
                "higher_is_better": case.better == Better::Higher,
                "rounds": rounds,
                "peers": peers,
                "ratios": ratios,
                "targets": targets,
                "notes": collector.notes,
            })
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of the sslsocket ratios (higher is better: for
/// lower-is-better rows the ratio is inverted) of the rows marked for the
/// chart, with a line at 1.0 (parity) and each row's target.
pub fn svg(collectors: &[Collector]) -> String {
    struct Bar {
        label: String,
        ratio: f64,
        target: Option<f64>,
    }
    let mut bars = Vec::new();
    for collector in collectors {
        for case in collector.cases.iter().filter(|c| c.chart) {
            for (a, b) in &collector.ratios {
                let Some(mut ratio) = case.ratio(a, b) else {
                    continue;
                };
                if case.better == Better::Lower {
                    ratio = 1.0 / ratio;
                }
                let target = case.targets.iter().find_map(|t| match *t {
                    Target::RatioAtLeast(x, y, bound) if (x, y) == (*a, *b) => Some(bound),
                    Target::RatioAtMost(x, y, bound) if (x, y) == (*a, *b) => Some(1.0 / bound),
                    _ => None,
                });
                bars.push(Bar {
                    label: format!("{} {} — {a}/{b}", case.scenario, case.name),
                    ratio,
                    target,
                });
            }
        }
    }
    let row = 22.0;
    let label_width = 470.0;
    let plot_width = 420.0;
    let top = 50.0;
    let height = top + row * bars.len() as f64 + 40.0;
    let width = label_width + plot_width + 80.0;
    let max = bars
        .iter()
        .map(|b| b.ratio)
        .fold(2.0_f64, f64::max)
        .min(8.0)
        .ceil();
    let x = |r: f64| label_width + plot_width * (r.min(max) / max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"##
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="15" font-weight="bold">sslsocket relative to its peers (ratio of medians; &gt; 1 is better for sslsocket)</text>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="10" y="38" fill="#555">latency rows are inverted (peer/sslsocket); green: target met, red: missed, blue: no target; dashed: target</text>"##
    );
    for tick in 0..=(max as usize) {
        let tx = x(tick as f64);
        let _ = writeln!(
            out,
            "<line x1=\"{tx}\" y1=\"{top}\" x2=\"{tx}\" y2=\"{}\" stroke=\"{}\"/><text x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>",
            height - 30.0,
            if tick == 1 { "#000" } else { "#ddd" },
            height - 15.0
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let color = match bar.target {
            Some(t) if bar.ratio >= t => "#3a3",
            Some(_) => "#c33",
            None => "#58c",
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{label_width}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\">{:.2}</text>",
            label_width - 8.0,
            y + 15.0,
            escape(&bar.label),
            y + 4.0,
            x(bar.ratio) - label_width,
            row - 6.0,
            x(bar.ratio) + 4.0,
            y + 15.0,
            bar.ratio
        );
        if let Some(t) = bar.target {
            let tx = x(t);
            let _ = writeln!(
                out,
                "<line x1=\"{tx:.1}\" y1=\"{}\" x2=\"{tx:.1}\" y2=\"{}\" stroke=\"#000\" stroke-dasharray=\"3,2\"/>",
                y + 2.0,
                y + row
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A one-line progress indicator on stderr, shown only when stderr is a
/// terminal.
pub struct Progress {
    enabled: bool,
    done: usize,
    total: usize,
}

impl Progress {
    /// A progress line for `total` steps.
    pub fn new(total: usize) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            done: 0,
            total,
        }
    }

    /// Shows that the next step, `label`, is starting.
    pub fn step(&mut self, label: &str) {
        self.done += 1;
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K[{}/{}] {label}", self.done, self.total);
            let _ = err.flush();
        }
    }

    /// Clears the line.
    pub fn finish(&self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
