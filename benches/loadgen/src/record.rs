//! What a run of the load generator saw: every request's latency in an HDR
//! histogram (overall and per label), the errors by status, and the
//! request ids of the slowest requests, so a slow tail can be traced.
//!
//! Latencies are recorded in nanoseconds with three significant digits: a
//! median of ~100 µs is kept to within 0.1 µs, a stall of seconds to within
//! milliseconds.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::Label;

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Any HTTP status (the expected one, or an error).
    Status(u16),
    /// No answer within the client's timeout.
    Timeout,
    /// The connection failed or broke.
    Transport,
}

impl Outcome {
    /// The key under `errors_by_status`: the status, `timeout` or
    /// `transport`.
    pub fn key(&self) -> String {
        match self {
            Outcome::Status(status) => status.to_string(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Transport => "transport".into(),
        }
    }
}

/// One finished (or timed-out) request.
#[derive(Debug, Clone)]
pub struct Sample {
    pub label: Label,
    /// The status of a request that succeeded.
    pub expected_status: u16,
    /// When it was due to be sent: its scheduled time (open loop) or when
    /// it was sent (closed loop). Its latency counts from here.
    pub due: std::time::Instant,
    /// From the scheduled send time (open loop) or the actual send (closed
    /// loop) to the last byte of the answer.
    pub latency: Duration,
    pub outcome: Outcome,
    pub request_id: String,
}

impl Sample {
    /// Whether it did not get the status a success gets.
    pub fn failed(&self) -> bool {
        self.outcome != Outcome::Status(self.expected_status)
    }
}

/// How many of the slowest requests each record keeps.
const SLOWEST_KEPT: usize = 5;
/// The largest latency a histogram holds: far beyond any client timeout.
const LONGEST_NS: u64 = 3_600_000_000_000;

/// The figures of one label, or of all of them.
#[derive(Debug, Clone)]
struct Record {
    latency: Histogram<u64>,
    errors_by_status: BTreeMap<String, u64>,
    /// `(latency ns, request id)`, slowest first.
    slowest: Vec<(u64, String)>,
}

impl Record {
    fn new() -> Self {
        Record {
            latency: new_histogram(),
            errors_by_status: BTreeMap::new(),
            slowest: Vec::new(),
        }
    }

    fn add(&mut self, sample: &Sample) {
        let nanos = nanos(sample.latency);
        self.latency.saturating_record(nanos.max(1));
        if sample.failed() {
            *self
                .errors_by_status
                .entry(sample.outcome.key())
                .or_default() += 1;
        }
        let slower = self.slowest.len() < SLOWEST_KEPT
            || self.slowest.last().is_some_and(|(kept, _)| nanos > *kept);
        if slower {
            self.slowest.push((nanos, sample.request_id.clone()));
            self.slowest
                .sort_by_key(|(nanos, _)| std::cmp::Reverse(*nanos));
            self.slowest.truncate(SLOWEST_KEPT);
        }
    }

    fn summary(&self, elapsed: Duration) -> Summary {
        let requests = self.latency.len();
        Summary {
            requests,
            errors: self.errors_by_status.values().sum(),
            errors_by_status: self.errors_by_status.clone(),
            throughput_rps: requests as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            latency_ms: Percentiles::of(&self.latency),
            slowest: self
                .slowest
                .iter()
                .map(|(nanos, request_id)| Slow {
                    latency_ms: *nanos as f64 / 1e6,
                    request_id: request_id.clone(),
                })
                .collect(),
        }
    }
}

// A true invariant: these bounds are constants hdrhistogram accepts.
#[allow(clippy::expect_used)]
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LONGEST_NS, 3)
        .expect("1 ns to 1 h at 3 digits is a valid histogram")
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Collects samples as they arrive.
#[derive(Debug, Clone)]
pub struct Recorder {
    all: Record,
    endpoints: BTreeMap<Label, Record>,
    /// Open loop only: actual send time minus scheduled send time.
    send_lag: Option<Histogram<u64>>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            all: Record::new(),
            endpoints: BTreeMap::new(),
            send_lag: None,
        }
    }

    pub fn add(&mut self, sample: &Sample) {
        self.all.add(sample);
        self.endpoints
            .entry(sample.label.clone())
            .or_insert_with(Record::new)
            .add(sample);
    }

    pub fn add_send_lag(&mut self, lag: Duration) {
        self.send_lag
            .get_or_insert_with(new_histogram)
            .saturating_record(nanos(lag).max(1));
    }

    /// The figures over `elapsed` (the time the run took).
    pub fn summary(
        &self,
        elapsed: Duration,
    ) -> (Summary, BTreeMap<String, Summary>, Option<Percentiles>) {
        let endpoints = self
            .endpoints
            .iter()
            .map(|(label, record)| (label.to_string(), record.summary(elapsed)))
            .collect();
        (
            self.all.summary(elapsed),
            endpoints,
            self.send_lag.as_ref().map(Percentiles::of),
        )
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

/// Throughput, latency and errors of a set of requests.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Every request that completed or timed out.
    pub requests: u64,
    /// Requests that did not get the status a success gets.
    pub errors: u64,
    /// Errors by status (`"409"`, `"503"`, ...), `"timeout"` or `"transport"`.
    pub errors_by_status: BTreeMap<String, u64>,
    pub throughput_rps: f64,
    pub latency_ms: Percentiles,
    /// The slowest requests and their `X-Request-Id`s.
    pub slowest: Vec<Slow>,
}

/// One slow request, to trace.
#[derive(Debug, Clone, Serialize)]
pub struct Slow {
    pub latency_ms: f64,
    pub request_id: String,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |nanos: u64| nanos as f64 / 1e6;
        if histogram.is_empty() {
            return Percentiles {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
            };
        }
        Percentiles {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }

    /// `(label, value)` pairs, for tables and plots.
    pub fn points(&self) -> [(&'static str, f64); 5] {
        [
            ("p50", self.p50),
            ("p90", self.p90),
            ("p99", self.p99),
            ("p99.9", self.p999),
            ("max", self.max),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(millis: u64, outcome: Outcome, id: &str) -> Sample {
        Sample {
            due: std::time::Instant::now(),
            label: "GET /products/{id}".into(),
            expected_status: 200,
            latency: Duration::from_millis(millis),
            outcome,
            request_id: id.into(),
        }
    }

    #[test]
    fn percentiles_errors_and_the_slowest_ids_come_from_the_samples() {
        let mut recorder = Recorder::new();
        for millis in 1..=100 {
            recorder.add(&sample(millis, Outcome::Status(200), &format!("r{millis}")));
        }
        recorder.add(&sample(5_000, Outcome::Timeout, "stuck"));
        recorder.add(&sample(2, Outcome::Status(503), "refused"));
        let (all, endpoints, lag) = recorder.summary(Duration::from_secs(2));
        assert_eq!(all.requests, 102);
        assert_eq!(all.errors, 2);
        assert_eq!(all.errors_by_status.get("timeout"), Some(&1));
        assert_eq!(all.errors_by_status.get("503"), Some(&1));
        assert!((all.throughput_rps - 51.0).abs() < 1e-9);
        assert!(
            (all.latency_ms.p50 - 50.0).abs() < 0.1,
            "{:?}",
            all.latency_ms
        );
        assert!(
            (all.latency_ms.max - 5_000.0).abs() < 5.0,
            "{:?}",
            all.latency_ms
        );
        let slowest: Vec<&str> = all
            .slowest
            .iter()
            .map(|slow| slow.request_id.as_str())
            .collect();
        assert_eq!(slowest, ["stuck", "r100", "r99", "r98", "r97"]);
        assert_eq!(endpoints["GET /products/{id}"].requests, 102);
        assert!(lag.is_none(), "a closed loop has no schedule to lag behind");
    }
}
