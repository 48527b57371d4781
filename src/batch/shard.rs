//! One machine's share of a dataset (`--shard K/N`, DESIGN §7), and the check that the
//! folders given to `palpa merge` are every shard of one run, once.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::parts::{shard_error, Manifest};
use crate::error::Error;
use crate::output::fnv1a;

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
}
