//! `shoplab layers DUMP...`: a callgrind dump (of a counting pass, under
//! `<results>/counted/`, or any other) read by layer, with the functions
//! that cost most in each: how a reader checks where the layer table put a
//! function, and why a layer is as large as it is.

use std::collections::BTreeMap;
use std::path::PathBuf;

use shoplab_deploy::callgrind::{Function, Profile};

use super::layers::{layer_of, Layer};

/// Read callgrind dumps by layer: each layer's instructions and share, and
/// the functions (their own instructions) that cost most in it. The layer
/// table is docs/INSTRUMENTS.md's.
#[derive(clap::Args)]
pub struct Args {
    /// Callgrind dumps: a counting pass keeps its own under
    /// <results>/counted/<deployment>/ (one per process and batch).
    #[arg(required = true)]
    pub dumps: Vec<PathBuf>,
    /// How many functions to show per layer.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
    /// Show only this layer (shop, database, http_server, http_client,
    /// json, runtime, allocator, observability, other).
    #[arg(long)]
    pub layer: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let only = match &args.layer {
        Some(key) => Some(
            Layer::ALL
                .into_iter()
                .find(|layer| layer.key() == key)
                .ok_or_else(|| {
                    let keys: Vec<&str> = Layer::ALL.iter().map(|layer| layer.key()).collect();
                    anyhow::anyhow!("--layer {key} is not a layer: {}", keys.join(", "))
                })?,
        ),
        None => None,
    };
    for path in &args.dumps {
        let profile = Profile::read(path)?;
        println!("{}: {} instructions", path.display(), profile.instructions);
        let mut layers: BTreeMap<Layer, Vec<(&Function, u64)>> = BTreeMap::new();
        for (function, cost) in &profile.functions {
            layers
                .entry(layer_of(function))
                .or_default()
                .push((function, *cost));
        }
        for (layer, mut functions) in layers {
            if only.is_some_and(|only| only != layer) {
                continue;
            }
            let total: u64 = functions.iter().map(|(_, cost)| cost).sum();
            println!(
                "  {:<18} {total:>12} ({:.1}%)",
                layer.key(),
                total as f64 * 100.0 / profile.instructions.max(1) as f64
            );
            functions.sort_by_key(|(_, cost)| std::cmp::Reverse(*cost));
            for (function, cost) in functions.into_iter().take(args.top) {
                let name: String = function.name.chars().take(110).collect();
                println!("      {cost:>12}  {name}");
            }
        }
    }
    Ok(())
}
