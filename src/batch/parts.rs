//! What a run keeps of each recording so that a later run can skip it (`--resume`) and the
//! outputs of a job array can be joined (`palpa merge`) (DESIGN §7).
//!
//! Beside the tables, `OUT/.palpa/` holds one *part* per recording — everything the tables
//! and the report are built from, in postcard (exact `f64`s, NaN included) — and
//! `manifest.json`, which names the dataset, the configuration, the shard and the parts. A
//! part is reused only when its key matches: a SHA-256 over the palpa version, the resolved
//! configuration, whether figures are drawn, and the path, size and SHA-256 of each input file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::shard::Shard;
use crate::config::Config;
use crate::error::{output_error, Error};
use crate::output::{distinct_stem, write_atomically, write_bytes};
use crate::summary::{InputFile, RecordingSummary};

/// The folder inside an output folder that holds the parts and the manifest.
pub const STATE_DIR: &str = ".palpa";

/// How an output folder was made: `palpa merge` checks that its shards agree on all of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// palpa's version.
    pub palpa_version: String,
    /// The dataset folder, absolute.
    pub dataset: PathBuf,
    /// The dataset's name, as the report shows it.
    pub name: String,
    /// The resolved configuration, as `palpa config` prints it; kept beside the manifest
    /// as `config.toml`, for a reader and for the merge.
    #[serde(skip)]
    pub config_toml: String,
    /// Whether figures were drawn.
    pub plots: bool,
    /// The share of the dataset this folder holds; `None` for all of it.
    pub shard: Option<Shard>,
    /// Each recording's dataset-relative path, in table order; its part is `parts/` +
    /// [`part_name`].
    pub recordings: Vec<String>,
}

impl Manifest {
    /// The manifest of the output folder `out`.
    ///
    /// # Errors
    /// [`Error::Shard`] when it is missing or does not parse.
    pub fn read(out: &Path) -> Result<Manifest, Error> {
        let state = out.join(STATE_DIR);
        let read = |name: &str| {
            let path = state.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                shard_error(
                    &path,
                    format!(
                        "cannot be read ({e}); expected the output folder of a finished \
                         `palpa run` (an interrupted one completes with --resume)"
                    ),
                )
            })
        };
        let mut manifest: Manifest =
            serde_json::from_str(&read("manifest.json")?).map_err(|e| {
                shard_error(
                    &state.join("manifest.json"),
                    format!("is not a palpa manifest: {e}"),
                )
            })?;
        manifest.config_toml = read("config.toml")?;
        Ok(manifest)
    }

    /// Writes it, and its configuration, into `out`'s state folder.
    ///
    /// # Errors
    /// [`Error::Output`] naming the file.
    pub fn write(&self, out: &Path) -> Result<(), Error> {
        let state = out.join(STATE_DIR);
        write_bytes(&state.join("config.toml"), self.config_toml.as_bytes())?;
        let path = state.join("manifest.json");
        let text = serde_json::to_string_pretty(self).map_err(|e| output_error(&path, e))?;
        write_atomically(&path, |file| {
            use std::io::Write as _;
            writeln!(file, "{text}")
        })
    }

    /// The configuration the run used, from the manifest in output folder `out`.
    ///
    /// # Errors
    /// [`Error::Config`] when it no longer parses (a manifest edited by hand).
    pub fn config(&self, out: &Path) -> Result<Config, Error> {
        let path = out.join(STATE_DIR).join("config.toml");
        Ok(Config::parse(&self.config_toml, &path)?)
    }
}

/// [`Error::Shard`] for `path`.
pub(super) fn shard_error(path: &Path, message: impl fmt::Display) -> Error {
    Error::Shard {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// The file name of a recording's part: its path made a distinct file name.
pub fn part_name(path: &str) -> String {
    format!("{}.part", distinct_stem(path))
}

/// What a part file holds.
#[derive(Serialize, Deserialize)]
struct Part {
    key: String,
    row: RecordingSummary,
}

/// The parts of one output folder, under one configuration.
pub struct PartStore {
    dir: PathBuf,
    run_key: Vec<u8>,
}

impl PartStore {
    /// The store of output folder `out`, created if needed, with the temporary files of an
    /// interrupted run removed.
    ///
    /// # Errors
    /// [`Error::Output`] when the folder cannot be created or listed.
    pub fn open(out: &Path, cfg: &Config, plots: bool) -> Result<PartStore, Error> {
        let dir = out.join(STATE_DIR).join("parts");
        std::fs::create_dir_all(&dir).map_err(|e| output_error(&dir, e))?;
        let run_key = Sha256::new()
            .chain_update(env!("CARGO_PKG_VERSION"))
            .chain_update([0])
            .chain_update(cfg.to_toml())
            .chain_update([0, u8::from(plots)])
            .finalize()
            .to_vec();
        Ok(PartStore { dir, run_key })
    }

    /// The key of a recording with these inputs.
    pub fn key(&self, inputs: &[InputFile]) -> String {
        let mut hash = Sha256::new().chain_update(&self.run_key);
        for (path, bytes, sha256) in inputs {
            hash.update(path);
            hash.update([0]);
            hash.update(bytes.to_le_bytes());
            hash.update(sha256);
            hash.update([0]);
        }
        format!("{:x}", hash.finalize())
    }

    /// The stored row of the recording at dataset path `path`, when it was stored under `key`.
    /// A missing, unreadable or stale part is `None`: the recording is simply processed.
    pub fn get(&self, path: &str, key: &str) -> Option<RecordingSummary> {
        let bytes = std::fs::read(self.dir.join(part_name(path))).ok()?;
        let part: Part = postcard::from_bytes(&bytes).ok()?;
        (part.key == key && part.row.path == path).then_some(part.row)
    }

    /// Stores `row` under `key`.
    ///
    /// # Errors
    /// [`Error::Output`] naming the part file.
    pub fn put(&self, row: &RecordingSummary, key: &str) -> Result<(), Error> {
        let path = self.dir.join(part_name(&row.path));
        let part = Part {
            key: key.to_string(),
            row: row.clone(),
        };
        let bytes = postcard::to_stdvec(&part).map_err(|e| output_error(&path, e))?;
        write_bytes(&path, &bytes)
    }

    /// Removes every part not of `keep` (dataset paths), so the folder holds this run's only.
    ///
    /// # Errors
    /// [`Error::Output`] when the folder cannot be listed or a file removed.
    pub fn retain(&self, keep: &[String]) -> Result<(), Error> {
        let keep: std::collections::HashSet<String> = keep.iter().map(|p| part_name(p)).collect();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| output_error(&self.dir, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                std::fs::remove_file(entry.path()).map_err(|e| output_error(&entry.path(), e))?;
            }
        }
        Ok(())
    }

    /// Copies the part of `path` from another output folder's store, returning its row.
    ///
    /// # Errors
    /// [`Error::Shard`] when the part is missing or unreadable; [`Error::Output`] when the
    /// copy cannot be written.
    pub fn copy_from(&self, shard_out: &Path, path: &str) -> Result<RecordingSummary, Error> {
        let name = part_name(path);
        let from = shard_out.join(STATE_DIR).join("parts").join(&name);
        let bytes = std::fs::read(&from).map_err(|e| {
            shard_error(
                &from,
                format!("the part of {path} cannot be read ({e}); run that shard again"),
            )
        })?;
        let part: Part = postcard::from_bytes(&bytes).map_err(|e| {
            shard_error(
                &from,
                format!("the part of {path} is damaged ({e}); run that shard again"),
            )
        })?;
        if part.row.path != path {
            return Err(shard_error(
                &from,
                format!("holds {}, not {path}; run that shard again", part.row.path),
            ));
        }
        write_bytes(&self.dir.join(&name), &bytes)?;
        Ok(part.row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_row(path: &str) -> RecordingSummary {
        RecordingSummary {
            id: path.trim_end_matches(".edf").into(),
            path: path.into(),
            meta: crate::model::RecordingMeta::default(),
            info: None,
            result: Err("truncated".into()),
            inputs: vec![(path.into(), 10, "ab".repeat(32))],
            stage_s: [0.0; 3],
            figures: Vec::new(),
        }
    }

    #[test]
    fn a_part_is_reused_only_for_the_same_inputs_configuration_and_figures() {
        let out = tempfile::tempdir().unwrap();
        let cfg = Config::default();
        let store = PartStore::open(out.path(), &cfg, true).unwrap();
        let row = failed_row("sub-01/a.edf");
        let key = store.key(&row.inputs);
        store.put(&row, &key).unwrap();
        let back = store
            .get("sub-01/a.edf", &key)
            .expect("stored under this key");
        assert_eq!(back.result.err(), row.result.err());
        assert_eq!(back.inputs, row.inputs);

        let mut edited = row.inputs.clone();
        edited[0].2 = "cd".repeat(32);
        assert!(store.get("sub-01/a.edf", &store.key(&edited)).is_none());
        let mut other_cfg = Config::default();
        other_cfg.emg.bandpass_hz[0] = 10.0;
        for other in [
            PartStore::open(out.path(), &other_cfg, true).unwrap(),
            PartStore::open(out.path(), &cfg, false).unwrap(),
        ] {
            assert!(other.get("sub-01/a.edf", &other.key(&row.inputs)).is_none());
        }
        assert!(store.get("sub-01/b.edf", &key).is_none());

        store.retain(&[]).unwrap();
        assert!(
            store.get("sub-01/a.edf", &key).is_none(),
            "retain removed it"
        );
    }
}
