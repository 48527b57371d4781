//! Everything palpa writes goes through here: files written under a temporary name and
//! renamed (an interrupted run never leaves a half-written file), the names outputs get,
//! and the tables in Parquet and CSV (DESIGN §4).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{output_error, Error};

/// Table file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// Parquet only.
    Parquet,
    /// CSV only.
    Csv,
    /// Both.
    Both,
}

impl TableFormat {
    /// Whether this format writes `.parquet` files.
    pub fn parquet(self) -> bool {
        matches!(self, TableFormat::Parquet | TableFormat::Both)
    }

    /// Whether this format writes `.csv` files.
    pub fn csv(self) -> bool {
        matches!(self, TableFormat::Csv | TableFormat::Both)
    }
}

/// Runs `write` on a buffered temporary file beside `path`, then renames it into place; the
/// temporary is removed on failure.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_atomically<E: std::fmt::Display>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), Error> {
    let tmp = temporary_name(path);
    let result = File::create(&tmp)
        .map_err(|e| output_error(path, e))
        .and_then(|file| {
            let mut file = BufWriter::new(file);
            write(&mut file).map_err(|e| output_error(path, e))?;
            file.into_inner()
                .map_err(|e| output_error(path, e.into_error()))?;
            std::fs::rename(&tmp, path).map_err(|e| output_error(path, e))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_atomically`] of the bytes `contents`.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_bytes(path: &Path, contents: &[u8]) -> Result<(), Error> {
    write_atomically(path, |file| {
        use std::io::Write as _;
        file.write_all(contents)
    })
}

/// `<stem>.tmp-<pid>.<extension>` beside `path`: the extension stays last, as image encoders
/// choose the format by it.
pub fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.file_stem().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
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

/// Writes a Parquet file atomically. On the calling thread: palpa's tables are small, and
/// the caller is never one of rayon's threads, where polars must not run (its own pool
/// has deadlocked nested in rayon's).
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), Error> {
    write_atomically(path, |file| {
        ParquetWriter::new(file)
            .set_parallel(false)
            .finish(df)
            .map(|_| ())
    })
}

/// Writes `OUT/<name>.parquet` and/or `.csv`.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_table(
    out: &Path,
    name: &str,
    df: &mut DataFrame,
    format: TableFormat,
) -> Result<(), Error> {
    if format.parquet() {
        write_parquet(&out.join(format!("{name}.parquet")), df)?;
    }
    if format.csv() {
        write_atomically(&out.join(format!("{name}.csv")), |file| {
            CsvWriter::new(file).finish(df)
        })?;
    }
    Ok(())
}

/// A name → file stem: characters outside `A-Za-z0-9._-` become `_` (DESIGN §5).
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Two names whose stems come out alike get `_2`, `_3`, … rather than overwrite each other;
/// for names met in a fixed order, such as one recording's channels.
pub fn unique_stem(stem: String, used: &mut Vec<String>) -> String {
    let mut candidate = stem.clone();
    let mut n = 1;
    while used.contains(&candidate) {
        n += 1;
        candidate = format!("{stem}_{n}");
    }
    used.push(candidate.clone());
    candidate
}

/// A recording id → file stem that is the same in every run and distinct for distinct ids,
/// whatever order recordings finish in: an id of `A-Za-z0-9._-` is its own stem; any other
/// gets [`file_stem`] plus a 32-bit hash of the whole id, so `Müller` and `Möller`, or
/// `subj 1` and `subj_1`, do not share a file.
pub fn distinct_stem(id: &str) -> String {
    let stem = file_stem(id);
    if !id.is_empty() && stem == id {
        stem
    } else {
        format!("{stem}-{:08x}", fnv1a(id.as_bytes()) as u32)
    }
}

/// 64-bit FNV-1a: a stable hash (unlike std's, the same on every machine and release),
/// for shards and file names.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `path` made absolute through its nearest existing ancestor, so a folder not yet created
/// can be compared with another.
pub fn resolved(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let base = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &existing
    };
    let mut out = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    out.extend(rest.iter().rev());
    out
}

/// `p` relative to `root`, with `/` between its parts on every system.
pub fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn names_that_sanitise_alike_get_distinct_stems() {
        let mut used = Vec::new();
        assert_eq!(unique_stem(file_stem("EMG UT/L"), &mut used), "EMG_UT_L");
        assert_eq!(unique_stem(file_stem("EMG UT L"), &mut used), "EMG_UT_L_2");
    }

    #[test]
    fn ids_that_sanitise_alike_get_distinct_stable_stems() {
        assert_eq!(distinct_stem("sub-01_task-palp"), "sub-01_task-palp");
        let ids = [
            "Müller", "Möller", "subj 1", "subj_1", "subj-1", "a/b", "a_b", "",
        ];
        let stems: Vec<String> = ids.iter().map(|n| distinct_stem(n)).collect();
        for (i, a) in stems.iter().enumerate() {
            assert!(
                a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
                "{a}"
            );
            assert!(!stems[..i].contains(a), "{a} twice in {stems:?}");
        }
        assert_eq!(
            distinct_stem("Müller"),
            stems[0],
            "the same id, the same stem"
        );
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
