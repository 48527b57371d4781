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
use std::str::FromStr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::pipeline::write_atomically;
use crate::summary::{InputFile, RecordingSummary};
use crate::{output_error, Error};

/// The folder inside an output folder that holds the parts and the manifest.
pub const STATE_DIR: &str = ".palpa";

/// The places for recordings in flight: one per thread of the pool. A recording takes one
/// before it is read and gives it back when its row is done, so a batch holds at most that
/// many recordings at once, however large the dataset.
pub struct Places {
    free: Mutex<usize>,
    given_back: Condvar,
}

/// A place taken from [`Places`]; dropping it gives it back.
pub struct Place<'a>(&'a Places);

impl Places {
    /// `count` places, at least one.
    pub fn new(count: usize) -> Places {
        Places {
            free: Mutex::new(count.max(1)),
            given_back: Condvar::new(),
        }
    }

    /// Waits until a place is free and takes it.
    pub fn take(&self) -> Place<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self
                .given_back
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Place(self)
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.given_back.notify_one();
    }
}

/// The value behind `mutex`, also after a panic elsewhere: what it guards here (counts and
/// finished rows) stays whole, since a panic is caught per recording, outside the lock.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ctrl-C during `palpa run`. The first SIGINT asks the run to start no more recordings:
/// those in flight finish and keep their parts, so `--resume` goes on from there, and no
/// table is written from half a dataset. The handler then restores the default action, so
/// a second Ctrl-C ends palpa at once.
pub mod interrupt {
    use std::sync::atomic::{AtomicBool, Ordering};

    static REQUESTED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_sigint(_: libc::c_int) {
        REQUESTED.store(true, Ordering::SeqCst);
        // SAFETY: signal() is async-signal-safe (POSIX.1-2008, signal-safety(7)).
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }

    /// Installs the handler.
    pub fn watch() {
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        // SAFETY: the handler only stores to an atomic and calls signal(), both
        // async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        }
    }

    /// Whether Ctrl-C has been pressed since [`watch`].
    pub fn requested() -> bool {
        REQUESTED.load(Ordering::SeqCst)
    }
}

/// One machine's share of a dataset: recordings whose id hashes to `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    /// K, from 0.
    pub index: u64,
    /// N, at least 1.
    pub count: u64,
}

impl Shard {
    /// Whether recording `id` belongs to this shard: FNV-1a (64 bit) of its bytes, so the
    /// split depends on nothing but the id and is the same on every machine.
    pub fn takes(self, id: &str) -> bool {
        fnv1a(id.as_bytes()) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let expected = || {
            format!(
                "expected K/N, two whole numbers with K from 0 to N-1 (2/8 is the third of 8 \
                 shards), found {s}"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(expected)?;
        let (index, count) = (
            k.trim().parse().map_err(|_| expected())?,
            n.trim().parse().map_err(|_| expected())?,
        );
        if index >= count {
            return Err(expected());
        }
        Ok(Shard { index, count })
    }
}

impl TryFrom<String> for Shard {
    type Error = String;

    fn try_from(s: String) -> Result<Shard, String> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

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
        write_atomically(&state.join("config.toml"), |file| {
            use std::io::Write as _;
            file.write_all(self.config_toml.as_bytes())
        })?;
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
fn shard_error(path: &Path, message: impl fmt::Display) -> Error {
    Error::Shard {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// The file name of a recording's part: its path made a file name, plus a hash that keeps
/// paths differing only in separators apart.
pub fn part_name(path: &str) -> String {
    format!(
        "{}-{:016x}.part",
        crate::pipeline::file_stem(path),
        fnv1a(path.as_bytes())
    )
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
        write_atomically(&path, |file| {
            use std::io::Write as _;
            file.write_all(&bytes)
        })
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
        write_atomically(&self.dir.join(&name), |file| {
            use std::io::Write as _;
            file.write_all(&bytes)
        })?;
        Ok(part.row)
    }
}

/// Removes the temporary files an interrupted run left in `dir` (`<stem>.tmp-<pid>.<ext>`).
pub fn remove_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = name.rsplit_once(".tmp-").is_some_and(|(_, rest)| {
            let pid = rest.split_once('.').map_or(rest, |(pid, _)| pid);
            !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Checks that `manifests` (of the folders `shards`) are the shards of one run: same palpa,
/// dataset, configuration and figures, and every K of the same N exactly once.
///
/// # Errors
/// [`Error::Shard`] naming the first folder that does not fit.
pub fn check_shards(shards: &[PathBuf], manifests: &[Manifest]) -> Result<(), Error> {
    let (Some(first), Some(first_dir)) = (manifests.first(), shards.first()) else {
        return Err(shard_error(Path::new("."), "no shard folders given"));
    };
    let count = first.shard.map_or(1, |s| s.count);
    let mut seen = vec![false; usize::try_from(count).unwrap_or(usize::MAX).min(1 << 20)];
    for (dir, m) in shards.iter().zip(manifests) {
        let differs = |what: &str| {
            shard_error(
                dir,
                format!(
                    "was made with a different {what} than {}; shards must come from one \
                     dataset, configuration and palpa version",
                    first_dir.display()
                ),
            )
        };
        if m.palpa_version != first.palpa_version {
            return Err(differs("palpa version"));
        }
        if m.dataset != first.dataset {
            return Err(differs("dataset"));
        }
        if m.config_toml != first.config_toml {
            return Err(differs("configuration"));
        }
        if m.plots != first.plots {
            return Err(differs("--no-plots setting"));
        }
        let shard = m.shard.unwrap_or(Shard { index: 0, count: 1 });
        if shard.count != count {
            return Err(shard_error(
                dir,
                format!(
                    "is shard {shard}, but {} is one of {count}",
                    first_dir.display()
                ),
            ));
        }
        let slot = seen
            .get_mut(shard.index as usize)
            .ok_or_else(|| shard_error(dir, format!("is shard {shard}: too many shards")))?;
        if std::mem::replace(slot, true) {
            return Err(shard_error(dir, format!("is shard {shard}, given twice")));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&k| !seen.get(k as usize).copied().unwrap_or(false))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(shard_error(
            first_dir,
            format!("the merge lacks shard {}", missing.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_ids_into_disjoint_covering_sets() {
        let ids: Vec<String> = (0..300).map(|i| format!("sub-{i:03}/emg/rec")).collect();
        let shards: Vec<Shard> = (0..3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.takes(id)).count(), 1, "{id}");
        }
        for s in &shards {
            let n = ids.iter().filter(|id| s.takes(id)).count();
            assert!((70..130).contains(&n), "{s} takes {n} of 300");
        }
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_shard_is_k_of_n_with_k_below_n() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { index: 2, count: 8 }));
        for bad in ["8/8", "3", "a/2", "1/0", "-1/2", ""] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains("K/N"), "{bad}: {err}");
        }
    }

    fn manifest(shard: Option<&str>) -> Manifest {
        Manifest {
            palpa_version: "0.1.0".into(),
            dataset: "/data/x".into(),
            name: "x".into(),
            config_toml: String::new(),
            plots: true,
            shard: shard.map(|s| s.parse().unwrap()),
            recordings: Vec::new(),
        }
    }

    #[test]
    fn a_merge_needs_every_shard_once_from_one_run() {
        let dirs: Vec<PathBuf> = ["a", "b", "c"].iter().map(PathBuf::from).collect();
        let all = [
            manifest(Some("0/3")),
            manifest(Some("2/3")),
            manifest(Some("1/3")),
        ];
        assert!(check_shards(&dirs, &all).is_ok());
        let err = check_shards(&dirs[..2], &all[..2]).unwrap_err().to_string();
        assert!(err.contains("lacks shard 1/3"), "{err}");
        let twice = [all[0].clone(), all[1].clone(), all[0].clone()];
        let err = check_shards(&dirs, &twice).unwrap_err().to_string();
        assert!(
            err.starts_with("c:") && err.contains("given twice"),
            "{err}"
        );
        let mut other = all.clone();
        other[1].config_toml = "changed".into();
        let err = check_shards(&dirs, &other).unwrap_err().to_string();
        assert!(
            err.starts_with("b:") && err.contains("configuration"),
            "{err}"
        );
        assert!(check_shards(&dirs[..1], &[manifest(None)]).is_ok());
    }

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

    #[test]
    fn a_recording_waits_for_a_place_and_gets_the_one_given_back() {
        let places = Places::new(2);
        let first = places.take();
        let _second = places.take();
        std::thread::scope(|s| {
            let third = s.spawn(|| drop(places.take()));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!third.is_finished(), "a third place was taken of two");
            drop(first);
            third.join().unwrap();
        });
        assert_eq!(*lock(&places.free), 1, "the third gave its place back");
    }

    #[test]
    fn temporaries_of_an_interrupted_run_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a.tmp-123.parquet",
            "b.tmp-9",
            "a.parquet",
            "notes.tmp-x",
            "c.tmp-",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        remove_temporaries(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.parquet", "c.tmp-", "notes.tmp-x"]);
    }
}
