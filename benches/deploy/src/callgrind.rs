//! Counting the instructions a process runs, with valgrind's callgrind:
//! how to start a process under it, how to zero and dump its counters while
//! it serves (valgrind's `vgdb`, as `callgrind_control` does), and how to
//! read a dump: the instructions in all, and each function's own
//! (exclusive) share, with the object and source file it came from.
//!
//! A count, unlike a time, does not move with the machine's load: the same
//! binary serving the same requests runs the same instructions, give or
//! take the little that depends on timing (a timer that fired, a lock that
//! was contended). That is why rustc-perf and SQLite track instructions,
//! and why `compare`'s counting pass does (docs/INSTRUMENTS.md).
//!
//! What a count cannot see: the kernel (system calls are counted apart,
//! `syscalls.rs`), and cache misses or stalls (an instruction is an
//! instruction).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};

/// Where a process's callgrind dumps go, and the command that runs a
/// binary under callgrind writing there.
#[derive(Debug, Clone)]
pub struct Callgrind {
    /// Dumps are `DIR/<process name>.<pid>[.<dump number>]`.
    pub dir: PathBuf,
}

impl Callgrind {
    /// The command line that runs `binary` as `name` under callgrind, with
    /// address-space randomisation off (`setarch -R`: the same addresses,
    /// so the same hash-table layouts and allocator paths, run after run)
    /// and counting on from the start (the dumps taken around a batch,
    /// [`zero`] then [`dump`], hold only what the batch ran).
    pub fn command(&self, name: &str, binary: &Path) -> Vec<String> {
        let out = self.dir.join(format!("{}.%p", file_name(name)));
        command_writing(&out, binary)
    }
}

/// The command line that runs `binary` under callgrind as
/// [`Callgrind::command`] does, writing to `out` (`%p` there is the pid; a
/// dump taken while it runs is `out.1`, `out.2`, ...; the one at exit is
/// `out` itself).
pub fn command_writing(out: &Path, binary: &Path) -> Vec<String> {
    vec![
        "env".into(),
        GLIBC_TUNABLES.into(),
        "setarch".into(),
        std::env::consts::ARCH.into(),
        "-R".into(),
        "valgrind".into(),
        "--tool=callgrind".into(),
        "--quiet".into(),
        // Each function's cost with its callee's, not every jump.
        "--collect-jumps=no".into(),
        // Valgrind runs one thread at a time; by default, which one runs
        // next after a thread blocks is up to the OS's lock, and how many
        // times a future is polled (each poll a few thousand instructions)
        // moved with it: reads differed by 1-3% from run to run. A fair
        // lock hands over in order, and they agree far more often
        // (docs/INSTRUMENTS.md).
        "--fair-sched=yes".into(),
        format!("--callgrind-out-file={}", out.display()),
        binary.display().to_string(),
    ]
}

/// Valgrind counts a `rep stosb` or `rep movsb` once per byte it stores.
/// On a CPU that has them fast (ERMS), glibc's memset takes that path from
/// 2 KB up, so clearing a 3 KB buffer counted ~3,100 instructions, against
/// ~190 for the vector loop it takes below the threshold: one extra clear
/// (actix's dispatcher polled once more) moved a read by up to 3%, and the
/// same request counted differently on CPUs with and without ERMS. Raising
/// both thresholds out of reach keeps every memset and memcpy on the vector
/// loop, counted per 32 bytes like the rest of the code
/// (docs/INSTRUMENTS.md).
const GLIBC_TUNABLES: &str =
    "GLIBC_TUNABLES=glibc.cpu.x86_rep_stosb_threshold=0x40000000:glibc.cpu.x86_rep_movsb_threshold=0x40000000";

/// A process name as a file name (`shoplab-group:users+payments` has a colon).
pub fn file_name(name: &str) -> String {
    name.replace([':', '/'], "_")
}

/// Whether valgrind (with its `vgdb`) and `setarch` are installed.
pub fn available() -> anyhow::Result<()> {
    for tool in ["valgrind", "vgdb", "setarch"] {
        let found = std::process::Command::new(tool)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            bail!(
                "{tool} is not installed: the counting pass runs each process under valgrind \
                 (Debian: apt-get install valgrind util-linux), or pass --no-count"
            );
        }
    }
    Ok(())
}

/// Sets the counters of the callgrind process `pid` to zero.
pub async fn zero(pid: u32) -> anyhow::Result<()> {
    monitor(pid, "zero").await
}

/// Writes the counters of the callgrind process `pid` to its next dump file
/// and sets them to zero.
pub async fn dump(pid: u32) -> anyhow::Result<()> {
    monitor(pid, "dump").await
}

/// Sends one of callgrind's monitor commands through `vgdb`, which wakes
/// the process even while all its threads wait in a system call.
async fn monitor(pid: u32, command: &str) -> anyhow::Result<()> {
    let output = tokio::process::Command::new("vgdb")
        .arg(format!("--pid={pid}"))
        .arg(command)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run vgdb")?;
    if !output.status.success() {
        bail!(
            "vgdb {command} for process {pid} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// One function's own cost in a dump.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Function {
    /// The object it is in (the binary, `libc.so.6`, ...).
    pub object: String,
    /// Its source file, as the debug info names it (`???` without).
    pub file: String,
    /// Its name, demangled.
    pub name: String,
}

/// What one dump counted.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Instructions run in all (callgrind's `Ir`), from its `totals:` or
    /// `summary:` line.
    pub instructions: u64,
    /// Each function's own instructions (its callees' not included): these
    /// add up to `instructions`.
    pub functions: HashMap<Function, u64>,
}

impl Profile {
    /// Reads the dump at `path`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the callgrind dump {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the callgrind dump {}", path.display()))
    }

    /// Reads a dump in callgrind's format (valgrind's docs, "Callgrind
    /// Format Specification"): names compressed as `fn=(12) name`, then
    /// `fn=(12)`; cost lines of a position and the event counts; a line
    /// after `calls=` is the call's inclusive cost, which belongs to the
    /// callee, not to the function it is in.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut names = Names::default();
        let mut profile = Profile::default();
        let (mut object, mut file, mut function) = (String::new(), String::new(), None);
        let mut call_cost_next = false;
        let mut events_ok = false;
        let (mut totals, mut summary) = (None, None);
        for line in text.lines() {
            let Some(first) = line.chars().next() else {
                continue;
            };
            if first.is_ascii_digit() || matches!(first, '+' | '-' | '*') {
                if call_cost_next {
                    call_cost_next = false;
                    continue;
                }
                let cost = line
                    .split_whitespace()
                    .nth(1)
                    .map_or(Ok(0), str::parse::<u64>)
                    .with_context(|| format!("a cost line that is not numbers: {line:?}"))?;
                let key = function
                    .clone()
                    .context("a cost line before any fn= line")?;
                *profile.functions.entry(key).or_default() += cost;
                continue;
            }
            let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(": ")) else {
                continue;
            };
            match key {
                "ob" => object = names.read(Kind::Object, value),
                "fl" => file = names.read(Kind::File, value),
                // Inlined code from another file: still the same function.
                "fi" | "fe" => {
                    names.read(Kind::File, value);
                }
                "fn" => {
                    let name = names.read(Kind::Function, value);
                    function = Some(Function {
                        object: object.clone(),
                        file: file.clone(),
                        name,
                    });
                }
                "cob" => {
                    names.read(Kind::Object, value);
                }
                "cfi" | "cfl" => {
                    names.read(Kind::File, value);
                }
                "cfn" => {
                    names.read(Kind::Function, value);
                }
                "calls" => call_cost_next = true,
                "events" => {
                    let first_event = value.split_whitespace().next();
                    if first_event != Some("Ir") {
                        bail!("the dump counts {value:?}, not instructions (Ir) first");
                    }
                    events_ok = true;
                }
                "totals" | "summary" => {
                    let total = value
                        .split_whitespace()
                        .next()
                        .unwrap_or("0")
                        .parse::<u64>()
                        .with_context(|| format!("a {key} that is not a number: {value:?}"))?;
                    if key == "totals" {
                        totals = Some(total);
                    } else {
                        summary = Some(total);
                    }
                }
                _ => {}
            }
        }
        if !events_ok {
            bail!("not a callgrind dump: no `events:` line");
        }
        // `totals:`, at the end, is the sum of the cost lines; a dump's
        // `summary:`, at the top, can be a little short of it (callgrind
        // takes it before the threads' last blocks are added).
        let own: u64 = profile.functions.values().sum();
        profile.instructions = totals.or(summary).unwrap_or(own);
        Ok(profile)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Object,
    File,
    Function,
}

/// Callgrind's name compression: `(12) name` defines 12, `(12)` refers to it.
#[derive(Default)]
struct Names {
    known: HashMap<(Kind, u64), String>,
}

impl Names {
    fn read(&mut self, kind: Kind, value: &str) -> String {
        let value = value.trim();
        let Some(rest) = value.strip_prefix('(') else {
            return value.to_owned();
        };
        let Some((id, name)) = rest.split_once(')') else {
            return value.to_owned();
        };
        let Ok(id) = id.parse::<u64>() else {
            return value.to_owned();
        };
        let name = name.trim();
        if name.is_empty() {
            self.known.get(&(kind, id)).cloned().unwrap_or_default()
        } else {
            self.known.insert((kind, id), name.to_owned());
            name.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dump as callgrind writes one: `main` runs 10 instructions of its
    /// own and calls `work` (100 of its own) twice; the call's line carries
    /// the callee's inclusive cost, which is not `main`'s.
    const DUMP: &str = "\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 42
cmd: ./shop
part: 1

positions: line
events: Ir
summary: 110

ob=(1) /bin/shop
fl=(1) src/main.rs
fn=(1) main
3 4
+1 6
cfl=(2) src/work.rs
cfn=(2) work
calls=2 7
5 100

fl=(2)
fn=(2)
7 60
fi=(3) /rustc/library/core/src/iter.rs
12 40
fe=(2)

totals: 110
";

    fn own(profile: &Profile, name: &str) -> u64 {
        profile
            .functions
            .iter()
            .filter(|(function, _)| function.name == name)
            .map(|(_, cost)| *cost)
            .sum()
    }

    #[test]
    fn a_function_owns_its_own_lines_not_the_cost_of_its_calls() {
        let profile = Profile::parse(DUMP).expect("a valid dump");
        assert_eq!(profile.instructions, 110);
        assert_eq!(own(&profile, "main"), 10);
        assert_eq!(
            own(&profile, "work"),
            100,
            "inlined lines stay the function's"
        );
        assert_eq!(profile.functions.values().sum::<u64>(), 110);
        let work = profile
            .functions
            .keys()
            .find(|function| function.name == "work")
            .expect("work is in the dump");
        assert_eq!(work.file, "src/work.rs", "named by its compressed id");
        assert_eq!(work.object, "/bin/shop");
    }

    #[test]
    fn a_file_that_counts_no_instructions_is_refused() {
        assert!(Profile::parse("events: Dr\nfn=(1) f\n1 2\n").is_err());
        assert!(Profile::parse("hello\n").is_err());
    }
}
