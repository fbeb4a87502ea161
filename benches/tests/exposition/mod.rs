//! A strict reader of Prometheus's text exposition format (version 0.0.4),
//! for the metrics tests: every line must be a `# HELP`, a `# TYPE`, another
//! comment, a blank, or a sample `name{label="value",...} value`, and every
//! sample must belong to a family whose type was declared before it. A
//! histogram's buckets must carry `le`, grow with it, and end in `+Inf`
//! equal to its `_count`. What the exporter writes is checked here, not
//! taken on trust; what Prometheus itself makes of it, `tests/prometheus.rs`
//! checks.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A whole scrape.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub samples: Vec<Sample>,
    /// Each family's declared type (`counter`, `gauge`, `histogram`, ...).
    pub types: HashMap<String, String>,
}

impl Scrape {
    /// Parses `text`, or says which line is wrong and why.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let mut scrape = Scrape::default();
        for (number, line) in text.lines().enumerate() {
            scrape
                .read_line(line)
                .map_err(|why| format!("line {}: {why}: {line:?}", number + 1))?;
        }
        scrape.check_histograms()?;
        Ok(scrape)
    }

    fn read_line(&mut self, line: &str) -> Result<(), String> {
        if line.trim().is_empty() {
            return Ok(());
        }
        if let Some(comment) = line.strip_prefix('#') {
            return self.read_comment(comment);
        }
        let sample = sample(line)?;
        let family = self.family_of(&sample.name);
        if !self.types.contains_key(&family) {
            return Err(format!("no # TYPE for {family} before its samples"));
        }
        self.samples.push(sample);
        Ok(())
    }

    fn read_comment(&mut self, comment: &str) -> Result<(), String> {
        let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
        match words.as_slice() {
            ["TYPE", name, kind] => {
                check_metric_name(name)?;
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                    return Err(format!("unknown type {kind}"));
                }
                if self
                    .types
                    .insert((*name).to_owned(), (*kind).to_owned())
                    .is_some()
                {
                    return Err(format!("a second # TYPE for {name}"));
                }
                Ok(())
            }
            ["TYPE", ..] => Err("a # TYPE line needs a name and a type".into()),
            ["HELP", name, ..] => check_metric_name(name),
            ["HELP"] => Err("a # HELP line needs a name".into()),
            _ => Ok(()),
        }
    }

    /// The family a sample belongs to: a histogram's `_bucket`, `_sum` and
    /// `_count` series are its own.
    fn family_of(&self, name: &str) -> String {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                if matches!(
                    self.types.get(base).map(String::as_str),
                    Some("histogram" | "summary")
                ) {
                    return base.to_owned();
                }
            }
        }
        name.to_owned()
    }

    fn check_histograms(&self) -> Result<(), String> {
        let histograms = self.types.iter().filter(|(_, kind)| *kind == "histogram");
        for (name, _) in histograms {
            let bucket_name = format!("{name}_bucket");
            let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
            for bucket in self.samples.iter().filter(|s| s.name == bucket_name) {
                let le = bucket
                    .labels
                    .get("le")
                    .ok_or_else(|| format!("{bucket_name} without le"))?;
                let bound = number(le).map_err(|why| format!("{bucket_name}: le {why}"))?;
                let rest = bucket
                    .labels
                    .iter()
                    .filter(|(label, _)| *label != "le")
                    .map(|(label, value)| (label.clone(), value.clone()))
                    .collect();
                series.entry(rest).or_default().push((bound, bucket.value));
            }
            for (labels, mut buckets) in series {
                buckets.sort_by(|one, other| one.0.total_cmp(&other.0));
                if buckets.windows(2).any(|pair| pair[1].1 < pair[0].1) {
                    return Err(format!("{name}{labels:?}: buckets not cumulative"));
                }
                let Some(&(last, total)) = buckets.last() else {
                    continue;
                };
                if last != f64::INFINITY {
                    return Err(format!("{name}{labels:?}: no +Inf bucket"));
                }
                let count = self
                    .samples
                    .iter()
                    .find(|s| s.name == format!("{name}_count") && same_labels(s, &labels))
                    .map(|s| s.value);
                if count != Some(total) {
                    return Err(format!(
                        "{name}{labels:?}: +Inf bucket {total}, count {count:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The sum of the samples named `name` whose labels include `labels`
    /// (0 if there is none: a counter not yet touched).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels)
            .fold(0.0, |total, sample| total + sample.value)
    }

    /// Whether any sample named `name` has `labels`.
    pub fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels).next().is_some()
    }

    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |sample| {
            sample.name == name
                && labels.iter().all(|(label, value)| {
                    sample.labels.get(*label).map(String::as_str) == Some(value)
                })
        })
    }

    /// Every family whose name starts with `prefix`, with the label names
    /// its samples carry: what a query over them can rely on.
    pub fn shapes(&self, prefix: &str) -> BTreeMap<String, Vec<String>> {
        let mut shapes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for sample in self.samples.iter().filter(|s| s.name.starts_with(prefix)) {
            let names = shapes.entry(sample.name.clone()).or_default();
            for label in sample.labels.keys() {
                if !names.contains(label) {
                    names.push(label.clone());
                }
            }
            names.sort();
        }
        shapes
    }
}

/// A series's labels, in order.
type Labels = Vec<(String, String)>;

/// Whether `sample` has exactly `labels` (a `_count` has a bucket's labels
/// less its `le`).
fn same_labels(sample: &Sample, labels: &Labels) -> bool {
    sample
        .labels
        .iter()
        .map(|(label, value)| (label.clone(), value.clone()))
        .eq(labels.iter().cloned())
}

/// `name{labels} value [timestamp]`.
fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample needs a value")?;
    let name = &line[..name_end];
    check_metric_name(name)?;
    let (labels, rest) = if line[name_end..].starts_with('{') {
        label_set(&line[name_end + 1..])?
    } else {
        (BTreeMap::new(), &line[name_end..])
    };
    let mut fields = rest.split_whitespace();
    let value = number(fields.next().ok_or("no value")?)?;
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("bad timestamp {timestamp}"))?;
    }
    if fields.next().is_some() {
        return Err("more than a value and a timestamp".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `label="value",...}` and what follows the closing brace.
fn label_set(mut text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(rest) = text.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let (name, rest) = text.split_once('=').ok_or("a label without =")?;
        check_label_name(name)?;
        let rest = rest
            .strip_prefix('"')
            .ok_or("a label value must be quoted")?;
        let (value, rest) = quoted_value(rest)?;
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        text = match rest.strip_prefix(',') {
            Some(rest) => rest,
            None if rest.starts_with('}') => rest,
            None => return Err("labels must be separated by commas".into()),
        };
    }
}

/// A label value up to its closing quote, with `\\`, `\"` and `\n` read.
fn quoted_value(text: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &text[at + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, 'n')) => value.push('\n'),
                other => return Err(format!("bad escape {other:?}")),
            },
            '\n' => return Err("a raw line break in a label value".into()),
            c => value.push(c),
        }
    }
    Err("an unterminated label value".into())
}

fn number(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text.parse().map_err(|_| format!("not a number: {text}")),
    }
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let valid = name.chars().enumerate().all(|(at, c)| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (at > 0 && c.is_ascii_digit())
    });
    if valid && !name.is_empty() {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let valid = name
        .chars()
        .enumerate()
        .all(|(at, c)| c.is_ascii_alphabetic() || c == '_' || (at > 0 && c.is_ascii_digit()));
    if valid && !name.is_empty() {
        Ok(())
    } else {
        Err(format!("bad label name {name:?}"))
    }
}

/// `GET url` and its body parsed: the metrics endpoint answers 200 with the
/// text format's content type.
pub async fn scrape(url: &str) -> Scrape {
    let response = reqwest::get(url)
        .await
        .expect("the metrics endpoint answers");
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{url}: {content_type}"
    );
    let text = response.text().await.expect("a text body");
    Scrape::parse(&text).unwrap_or_else(|why| panic!("{url} is not the text format: {why}"))
}

#[test]
fn the_reader_refuses_what_the_format_does_not_allow() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\"} 3\n\
                # TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n";
    let scrape = Scrape::parse(good).expect("valid");
    assert_eq!(scrape.value("a_total", &[("y", "q\"")]), 3.0);
    for bad in [
        "a_total 3\n",                                             // no TYPE
        "# TYPE a counter\na{x=1} 3\n",                            // unquoted value
        "# TYPE a counter\na{x=\"1\"} three\n",                    // not a number
        "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_count 1\n", // no +Inf
        "# TYPE h histogram\nh_bucket{le=\"0.1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE 1a counter\n",
    ] {
        assert!(Scrape::parse(bad).is_err(), "{bad:?}");
    }
}
