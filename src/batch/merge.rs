//! `palpa merge`: the outputs of `palpa run --shard K/N` for every K joined into exactly the
//! tables, figures, report and parts one run over the whole dataset writes (DESIGN §7).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::parts::{Manifest, PartStore};
use super::shard::check_shards;
use super::{prepare_output, write_outputs, Written};
use crate::error::{output_error, Error, Outcome};
use crate::output::{resolved, write_atomically, TableFormat};

/// What `palpa merge` is asked to do.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// The output folders of the shards, one per K.
    pub shards: Vec<PathBuf>,
    /// The merged output folder.
    pub out: PathBuf,
    /// Table file format.
    pub format: TableFormat,
}

/// Joins the shards; see the module docs.
///
/// # Errors
/// A folder that is not a shard of the same run, a shard missing or given twice, a missing
/// part or figure, an output folder that is one of the shards or cannot be written.
pub fn merge(opts: &MergeOptions) -> Result<Outcome, Error> {
    let clock = Instant::now();
    let manifests = opts
        .shards
        .iter()
        .map(|dir| Manifest::read(dir))
        .collect::<Result<Vec<_>, _>>()?;
    check_shards(&opts.shards, &manifests)?;
    let (Some(first), Some(first_dir)) = (manifests.first(), opts.shards.first()) else {
        return Ok(Outcome::default());
    };
    let cfg = first.config(first_dir)?;
    if let Some(dir) = opts
        .shards
        .iter()
        .find(|d| resolved(d) == resolved(&opts.out))
    {
        return Err(output_error(
            &opts.out,
            format!(
                "is the shard folder {}; merge into a new folder",
                dir.display()
            ),
        ));
    }
    let plots_dir = prepare_output(&opts.out, first.plots)?;
    let store = PartStore::open(&opts.out, &cfg, first.plots)?;
    let mut rows = Vec::new();
    for (dir, manifest) in opts.shards.iter().zip(&manifests) {
        for path in &manifest.recordings {
            let row = store.copy_from(dir, path)?;
            for (_, stem) in &row.figures {
                for ext in ["svg", "png"] {
                    let file = format!("{stem}.{ext}");
                    copy_file(&dir.join(&file), &opts.out.join(&file))?;
                }
            }
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| (&a.id, &a.path).cmp(&(&b.id, &b.path)));
    let manifest = Manifest {
        shard: None,
        recordings: rows.iter().map(|r| r.path.clone()).collect(),
        ..first.clone()
    };
    let timings = json!({"merge_parts": clock.elapsed().as_secs_f64()});
    let extra = json!({"shard": null, "merged_from": opts.shards});
    write_outputs(
        &rows,
        &manifest,
        &Written {
            cfg: &cfg,
            out: &opts.out,
            format: opts.format,
            plots: plots_dir.as_deref(),
            store: &store,
        },
        timings,
        extra,
    )
}

/// Copies a shard's figure into the merged output, in its recording's folder.
fn copy_file(from: &Path, to: &Path) -> Result<(), Error> {
    if let Some(folder) = to.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| output_error(folder, format!("cannot create the folder: {e}")))?;
    }
    let mut source = std::fs::File::open(from).map_err(|e| Error::Shard {
        path: from.to_path_buf(),
        message: format!("a figure of the shard cannot be read ({e}); run that shard again"),
    })?;
    write_atomically(to, |file| std::io::copy(&mut source, file).map(|_| ()))
}
