//! What a grow run has measured so far, kept beside its results
//! (`grow-so-far.json`) after each size and layout it finishes. The full
//! run builds for hours; given the same `--out`, a run that stopped goes on
//! where it stopped, and a run of other sizes adds them to the table. Each
//! point names the run that measured it ([`Run`]), so a table put together
//! from several runs says which figure came from which.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::{Layout, Point};
use crate::experiment::{write_json, Stamp};

/// The file, in the results folder.
const FILE: &str = "grow-so-far.json";

/// The run that measured a point: its commit and when it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub commit: Option<String>,
    pub started_at: String,
}

impl Run {
    pub fn of(stamp: &Stamp) -> Run {
        Run {
            commit: stamp.commit.clone(),
            started_at: stamp.started_at.clone(),
        }
    }

    /// `2026-12-07T22:01:33Z at b504990`.
    pub fn name(&self) -> String {
        let commit = self.commit.as_deref().unwrap_or("an unknown commit");
        format!(
            "{} at {}",
            self.started_at,
            commit.get(..7).unwrap_or(commit)
        )
    }
}

#[derive(Deserialize)]
struct SoFar {
    /// Points of one profile only: a release figure beside a debug one
    /// would compare builds of two kinds.
    profile: String,
    points: Vec<Point>,
}

/// The points measured so far in one results folder.
pub struct Measured {
    out: PathBuf,
    profile: String,
    pub points: Vec<Point>,
}

impl Measured {
    /// What the results folder `out` holds of earlier runs of `profile`
    /// (nothing, in a new one). A folder of the other profile is refused
    /// rather than overwritten.
    pub fn read(out: &Path, profile: &str) -> anyhow::Result<Measured> {
        let path = out.join(FILE);
        let points = match std::fs::read_to_string(&path) {
            Ok(json) => {
                let so_far: SoFar = serde_json::from_str(&json)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                if so_far.profile != profile {
                    bail!(
                        "{} holds points of {} builds, and this run makes {} builds: \
                         give another --out",
                        path.display(),
                        so_far.profile,
                        profile
                    );
                }
                so_far.points
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()))
            }
        };
        Ok(Measured {
            out: out.to_owned(),
            profile: profile.to_owned(),
            points,
        })
    }

    /// The run that measured N = `components` in `layout`, every
    /// deployment of it, if one has.
    pub fn run_of(&self, components: usize, layout: Layout, deployments: usize) -> Option<&Run> {
        let mut of = self
            .points
            .iter()
            .filter(|point| point.components == components && point.layout == layout);
        let first = of.next()?;
        (1 + of.count() == deployments).then_some(&first.run)
    }

    /// Adds the points of one size and layout, and writes them all.
    pub fn add(&mut self, points: Vec<Point>) -> anyhow::Result<()> {
        for point in &points {
            self.points.retain(|kept| {
                (kept.components, kept.layout, &kept.deployment)
                    != (point.components, point.layout, &point.deployment)
            });
        }
        self.points.extend(points);
        let so_far = serde_json::json!({ "profile": self.profile, "points": self.points });
        write_json(&self.out, FILE, &so_far)?;
        Ok(())
    }

    /// Every point, in order of size, then layout (deployments as measured).
    pub fn into_points(mut self) -> Vec<Point> {
        let rank = |layout: Layout| Layout::ALL.iter().position(|each| *each == layout);
        self.points
            .sort_by_key(|point| (point.components, rank(point.layout)));
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::tests::point;
    use super::*;

    #[test]
    fn a_stopped_run_goes_on_from_the_sizes_and_layouts_it_finished() {
        let out = tempfile::tempdir().expect("a scratch folder");
        let mut measured = Measured::read(out.path(), "release").expect("a new folder");
        assert!(measured.points.is_empty());
        let finished = ["monolith", "modular", "microservices"]
            .map(|deployment| point(16, Layout::CratePerComponent, deployment, 1.0, 1));
        measured.add(finished.to_vec()).expect("written");
        measured
            .add(vec![point(4, Layout::OneCrate, "monolith", 1.0, 1)])
            .expect("written");

        let again = Measured::read(out.path(), "release").expect("read back");
        assert!(again.run_of(16, Layout::CratePerComponent, 3).is_some());
        assert!(
            again.run_of(4, Layout::OneCrate, 3).is_none(),
            "a size half measured is measured again"
        );
        assert!(again.run_of(4, Layout::CratePerComponent, 3).is_none());
        let order: Vec<(usize, Layout)> = again
            .into_points()
            .iter()
            .map(|point| (point.components, point.layout))
            .collect();
        assert_eq!(order[0], (4, Layout::OneCrate));
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn a_folder_of_the_other_profile_is_refused_not_overwritten() {
        let out = tempfile::tempdir().expect("a scratch folder");
        let mut measured = Measured::read(out.path(), "dev").expect("a new folder");
        measured
            .add(vec![point(4, Layout::OneCrate, "monolith", 1.0, 1)])
            .expect("written");
        let refused = Measured::read(out.path(), "release")
            .err()
            .expect("refused");
        assert!(
            refused.to_string().contains("give another --out"),
            "{refused}"
        );
        assert!(Measured::read(out.path(), "dev").is_ok());
    }
}
