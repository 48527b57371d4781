//! Finding the recordings of a dataset and the sidecars that belong to each (DESIGN §2.1).
//!
//! A file named by BIDS entities (`sub-01_ses-1_task-palp_run-1_emg.edf`) takes its sidecars
//! by BIDS inheritance: in every folder from the dataset root down to its own, a sidecar
//! whose entities are a subset of the file's applies; farther and less specific ones come
//! first, so the nearest, most specific wins. Any other file takes `<stem>.json`,
//! `<stem>_channels.tsv` and `<stem>_events.tsv` beside it. Discovery skips `derivatives/`,
//! `sourcedata/`, hidden entries and sidecar files, and returns recordings sorted by id.
//!
//! `participants.tsv` at the root is read and checked (it must parse and have
//! `participant_id`); no output uses its columns yet, so they are not carried further.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::IngestError;

/// File formats palpa reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.edf` (EDF/EDF+).
    Edf,
    /// `.bdf` (BDF/BDF+).
    Bdf,
    /// `.csv`, `.tsv`, `.txt`: a text table in any dialect, or a vendor export.
    Csv,
    /// `.parquet`.
    Parquet,
    /// `.xdf` (Lab Streaming Layer).
    Xdf,
    /// `.c3d` (analog channels).
    C3d,
    /// `.h5` (OpenSignals HDF5).
    OpenSignalsH5,
}

/// Bytes read from the start of a file to recognise its format.
const HEAD_BYTES: usize = 8192;

impl Format {
    /// The format of a file, recognised by its content: a signature (EDF, BDF, Parquet, XDF,
    /// C3D, HDF5) wins over the extension; a file without one is taken by its extension (the
    /// reader then says what is wrong), except that a `.txt` or `.tsv` is a recording only
    /// when it starts as a table or a vendor export palpa knows, so that notes and READMEs
    /// beside the recordings are not.
    pub fn detect(path: &Path) -> Option<Format> {
        let by_name = Format::of(path)?;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        std::fs::File::open(path)
            .and_then(|f| {
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(f, HEAD_BYTES as u64),
                    &mut head,
                )
            })
            .ok()?;
        let signed = [
            (head.starts_with(b"0       "), Format::Edf),
            (head.starts_with(b"\xffBIOSEMI"), Format::Bdf),
            (head.starts_with(b"PAR1"), Format::Parquet),
            (super::xdf::is_xdf(&head), Format::Xdf),
            (super::c3d::is_c3d(&head), Format::C3d),
            (
                head.starts_with(b"\x89HDF\r\n\x1a\n"),
                Format::OpenSignalsH5,
            ),
        ];
        if let Some((_, format)) = signed.into_iter().find(|(signed, _)| *signed) {
            return Some(format);
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        if !matches!(ext.as_str(), "txt" | "tsv") {
            return Some(by_name);
        }
        let text = String::from_utf8_lossy(&head);
        let lines: Vec<&str> = text.lines().take(22).collect();
        let first = lines.first().copied().unwrap_or_default();
        let known = super::vicon::is_vicon(first)
            || super::opensignals::is_opensignals(first)
            || super::datalog::is_datalog(first)
            || super::table::looks_like_table(&lines);
        known.then_some(Format::Csv)
    }

    /// The format of a path, from its extension (any case).
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "edf" => Format::Edf,
            "bdf" => Format::Bdf,
            "csv" | "tsv" | "txt" => Format::Csv,
            "parquet" => Format::Parquet,
            "xdf" => Format::Xdf,
            "c3d" => Format::C3d,
            "h5" => Format::OpenSignalsH5,
            _ => return None,
        })
    }
}

/// True for a dataset's files that describe recordings rather than hold one: JSON
/// sidecars, BIDS TSV sidecars (`*_channels.tsv`, `*_events.tsv`, `participants.tsv`, …),
/// which discovery must not take for tab-separated recordings, and `palpa.toml`.
pub fn is_sidecar(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".json") || name == "palpa.toml" {
        return true;
    }
    let Some(stem) = name.strip_suffix(".tsv") else {
        return false;
    };
    matches!(stem, "participants" | "samples")
        || ["channels", "events", "electrodes", "scans", "sessions"]
            .iter()
            .any(|s| stem.ends_with(&format!("_{s}")))
}

/// BIDS entities of a recording.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entities {
    /// `sub-`.
    pub subject: Option<String>,
    /// `ses-`.
    pub session: Option<String>,
    /// `task-`.
    pub task: Option<String>,
    /// `run-`.
    pub run: Option<String>,
}

/// One recording to load, with its sidecars.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Path relative to the dataset root, without extension, `/`-separated.
    pub id: String,
    /// The recording file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// BIDS entities from its name.
    pub entities: Entities,
    /// `*_emg.json` (or `<stem>.json`) files, farthest first.
    pub json: Vec<PathBuf>,
    /// The applicable `*_channels.tsv`.
    pub channels_tsv: Option<PathBuf>,
    /// The applicable `*_events.tsv`.
    pub events_tsv: Option<PathBuf>,
}

/// A file name split into BIDS entities and suffix: `sub-01_task-x_emg` → ([sub, task], emg).
struct BidsName {
    entities: Vec<(String, String)>,
    suffix: String,
}

impl BidsName {
    fn parse(stem: &str) -> Option<BidsName> {
        let mut parts: Vec<&str> = stem.split('_').collect();
        let suffix = parts.pop()?.to_string();
        let entities = parts
            .into_iter()
            .map(|p| {
                p.split_once('-')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(BidsName { entities, suffix })
    }

    fn get(&self, key: &str) -> Option<String> {
        self.entities
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// True when every entity of `self` is also in `other` with the same value.
    fn applies_to(&self, other: &BidsName) -> bool {
        self.entities.iter().all(|e| other.entities.contains(e))
    }
}

/// What palpa reads, as messages list it.
pub const READABLE: &str = "EDF and BDF (.edf, .bdf); tables (.csv, .tsv, .txt: `,`, `;` or tab \
     separated) and the text exports of Vicon Nexus, OpenSignals and Biometrics DataLOG; \
     Parquet; C3D (.c3d); XDF (.xdf); OpenSignals HDF5 (.h5)";

/// Recordings under `root`, sorted by id (then path, for ids two formats share). A file
/// given as `root` is a dataset of one recording, its sidecars looked for as
/// [`source_of_file`] does.
///
/// # Errors
/// `root` is neither a readable folder nor a recording, or its `participants.tsv` is broken.
pub fn discover(root: &Path) -> Result<Vec<Source>, IngestError> {
    if root.is_file() {
        return Ok(vec![source_of_file(root)?]);
    }
    let participants = root.join("participants.tsv");
    if participants.is_file() {
        super::sidecar::Tsv::read(&participants)?.required("participant_id")?;
    }
    let mut files = Vec::new();
    walk(root, &mut files)?;
    let mut listing = Listing::default();
    let mut sources: Vec<Source> = files
        .into_iter()
        .filter(|path| !is_sidecar(path))
        .filter_map(|path| {
            let format = Format::detect(&path)?;
            Some(source(root, path.clone(), format, &mut listing))
        })
        .collect::<Result<_, _>>()?;
    sources.sort_by(|a, b| (&a.id, &a.path).cmp(&(&b.id, &b.path)));
    Ok(sources)
}

/// The dataset's settings file, `palpa.toml` at the root of `data`: the folder itself, or
/// for a recording the root [`source_of_file`] takes.
pub fn dataset_file(data: &Path) -> Option<PathBuf> {
    let root = if data.is_dir() {
        data.to_path_buf()
    } else {
        root_of_file(data)
    };
    Some(root.join("palpa.toml")).filter(|p| p.is_file())
}

/// The root a single file's sidecars are looked for from: the nearest folder holding
/// `dataset_description.json` (the BIDS root), else the file's own folder.
pub fn root_of_file(path: &Path) -> PathBuf {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent
        .ancestors()
        .find(|dir| dir.join("dataset_description.json").is_file())
        .unwrap_or(parent)
        .to_path_buf()
}

/// The source of a single file, for `inspect` and `export`: sidecars are looked for from the
/// nearest folder holding `dataset_description.json` (the BIDS root), else beside the file.
///
/// # Errors
/// The file's folder cannot be listed, or its format is unknown.
pub fn source_of_file(path: &Path) -> Result<Source, IngestError> {
    // A file named on the command line is read even when its content is not recognised:
    // the reader then says why it is not a recording.
    let format = Format::detect(path)
        .or_else(|| Format::of(path))
        .ok_or_else(|| {
            IngestError::format(
                path,
                "file extension",
                "one of .edf, .bdf, .csv, .tsv, .txt, .parquet, .c3d, .xdf, .h5",
                match path.extension() {
                    Some(ext) => format!(".{}", ext.to_string_lossy()),
                    None => "no extension".to_string(),
                },
            )
        })?;
    source(
        &root_of_file(path),
        path.to_path_buf(),
        format,
        &mut Listing::default(),
    )
}

fn source(
    root: &Path,
    path: PathBuf,
    format: Format,
    listing: &mut Listing,
) -> Result<Source, IngestError> {
    let rel = path.strip_prefix(root).unwrap_or(&path).with_extension("");
    let id = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let bids = BidsName::parse(&stem).filter(|b| b.get("sub").is_some());
    let (entities, json, channels_tsv, events_tsv) = match bids {
        Some(name) => {
            let entities = Entities {
                subject: name.get("sub"),
                session: name.get("ses"),
                task: name.get("task"),
                run: name.get("run"),
            };
            let json = inherited(root, &dir, &name, &name.suffix, "json", listing)?;
            let channels = inherited(root, &dir, &name, "channels", "tsv", listing)?.pop();
            let events = inherited(root, &dir, &name, "events", "tsv", listing)?.pop();
            (entities, json, channels, events)
        }
        None => {
            let beside = |name: String| Some(dir.join(name)).filter(|p| p.is_file());
            (
                Entities::default(),
                beside(format!("{stem}.json")).into_iter().collect(),
                beside(format!("{stem}_channels.tsv")),
                beside(format!("{stem}_events.tsv")),
            )
        }
    };
    Ok(Source {
        id,
        path,
        format,
        entities,
        json,
        channels_tsv,
        events_tsv,
    })
}

/// Applicable sidecars with `suffix`.`ext`, farthest and least specific first.
fn inherited(
    root: &Path,
    dir: &Path,
    name: &BidsName,
    suffix: &str,
    ext: &str,
    listing: &mut Listing,
) -> Result<Vec<PathBuf>, IngestError> {
    let mut chain: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| d.starts_with(root))
        .collect();
    chain.reverse();
    let mut found = Vec::new();
    for folder in chain {
        let mut here: Vec<(usize, PathBuf)> = listing
            .files(folder)?
            .iter()
            .filter_map(|file| {
                let stem = file.strip_suffix(&format!(".{ext}"))?;
                let candidate = BidsName::parse(stem)?;
                (candidate.suffix == suffix && candidate.applies_to(name))
                    .then(|| (candidate.entities.len(), folder.join(file)))
            })
            .collect();
        here.sort();
        found.extend(here.into_iter().map(|(_, p)| p));
    }
    Ok(found)
}

/// File names per folder, listed once.
#[derive(Default)]
struct Listing(BTreeMap<PathBuf, Vec<String>>);

impl Listing {
    fn files(&mut self, dir: &Path) -> Result<&Vec<String>, IngestError> {
        if !self.0.contains_key(dir) {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(dir).map_err(|e| IngestError::folder(dir, e))? {
                let entry = entry.map_err(|e| IngestError::folder(dir, e))?;
                if entry.path().is_file() {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            names.sort();
            self.0.insert(dir.to_path_buf(), names);
        }
        Ok(&self.0[dir])
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| IngestError::folder(dir, e))? {
        entries.push(entry.map_err(|e| IngestError::folder(dir, e))?.path());
    }
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if !matches!(name, "derivatives" | "sourcedata") {
                walk(&path, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// What a folder without recordings holds, counted by extension for the message that says
/// so: `3 .txt files and 1 .h5 file`, or `no files`.
pub fn census(root: &Path) -> String {
    let mut files = Vec::new();
    if walk(root, &mut files).is_err() {
        return "a folder that cannot be listed".into();
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for path in &files {
        let ext = path.extension().map_or("no extension".into(), |e| {
            format!(".{}", e.to_string_lossy())
        });
        *counts.entry(ext).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(ext, n)| format!("{n} {ext} file{}", if n == 1 { "" } else { "s" }))
        .collect();
    match parts.as_slice() {
        [] => "no files".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
