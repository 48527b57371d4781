//! A Parquet recording's sample columns decoded page by page, straight into their sample
//! buffers, with polars' own Parquet crate (polars-parquet): its footer parser, page reader
//! and decompressors.
//!
//! Read through a polars `DataFrame`, a column was decompressed into one fresh array per
//! row group, then copied into its sample buffer: twice the column's memory faulted in,
//! and loading was 40% of a 600 s Parquet run on 2 threads (0.13 of 0.33 s). Here each
//! page is decompressed into one buffer reused across the column's pages, and its values
//! are copied from there: loading 0.146 → 0.124 s (600 s, 2 threads) and 0.753 → 0.601 s
//! (3600 s), median of 9 and 5 runs alternating with the polars reader.
//!
//! Only the layout palpa and polars write is taken: flat `DOUBLE` columns, `PLAIN`-encoded
//! pages (v1 or v2, any codec polars reads), every value present. For anything else
//! (dictionary pages, integers, nulls, nesting, a page that does not decode),
//! [`PageColumns::read`] answers `None` and [`super::table::read_parquet`] reads the column
//! with polars, so conversions and errors are polars' as before.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use polars_buffer::Buffer;
use polars_parquet::parquet::encoding::hybrid_rle::{HybridRleChunk, HybridRleDecoder};
use polars_parquet::parquet::encoding::Encoding;
use polars_parquet::parquet::metadata::{ColumnChunkMetadata, FileMetadata};
use polars_parquet::parquet::page::{split_buffer, DataPage};
use polars_parquet::parquet::read::{read_metadata, BasicDecompressor, PageReader};
use polars_parquet::parquet::schema::types::PhysicalType;

thread_local! {
    /// The page buffer of the columns this thread reads, kept from one column to the next:
    /// a fresh one for each column was faulted in again (a tenth of a 600 s Parquet
    /// recording's page faults).
    static PAGE_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A Parquet file and its footer, for its columns' readers to share.
pub(crate) struct PageColumns {
    file: File,
    meta: FileMetadata,
}

impl PageColumns {
    /// Opens `path` and reads its footer; `None` when either fails (polars, which reads the
    /// file next, then names the problem).
    pub fn open(path: &Path) -> Option<PageColumns> {
        let mut file = File::open(path).ok()?;
        let meta = unpanicked(|| read_metadata(&mut file).ok())?;
        Some(PageColumns { file, meta })
    }

    /// Every sample of the column `name`, in row order, in `buffer` if it has room for
    /// them (its contents dropped), else in a new buffer; `None` for a column outside the
    /// layout this reader takes, or one whose pages do not decode.
    pub fn read(&self, name: &str, buffer: Vec<f64>) -> Option<Vec<f64>> {
        unpanicked(|| self.read_column(name, buffer))
    }

    fn read_column(&self, name: &str, mut buffer: Vec<f64>) -> Option<Vec<f64>> {
        let rows = self.meta.num_rows;
        let mut samples = if buffer.capacity() >= rows {
            buffer.clear();
            buffer
        } else {
            crate::model::try_sample_buffer_with_capacity(rows)?
        };
        let mut page_buffer = PAGE_BUFFER.take();
        for group in &self.meta.row_groups {
            let mut chunks = group.columns_under_root_iter(name)?;
            let (Some(chunk), None) = (chunks.next(), chunks.next()) else {
                return None;
            };
            let expected = samples
                .len()
                .checked_add(usize::try_from(chunk.num_values()).ok()?)?;
            if expected > rows {
                return None;
            }
            page_buffer = self.read_chunk(chunk, expected, page_buffer, &mut samples)?;
        }
        PAGE_BUFFER.set(page_buffer);
        (samples.len() == rows).then_some(samples)
    }

    /// Appends one row group's values of a column to `samples`, until they number
    /// `expected`; gives back the page buffer.
    fn read_chunk(
        &self,
        chunk: &ColumnChunkMetadata,
        expected: usize,
        page_buffer: Vec<u8>,
        samples: &mut Vec<f64>,
    ) -> Option<Vec<u8>> {
        let descriptor = &chunk.descriptor().descriptor;
        if descriptor.primitive_type.physical_type != PhysicalType::Double
            || descriptor.max_rep_level != 0
            || descriptor.max_def_level > 1
        {
            return None;
        }
        // The chunk's bytes alone are mapped, and unmapped when it is read: a map of the
        // whole file kept every page read in the process's memory (an hour's Parquet
        // recording: 1041 MB at the peak against 842 MB).
        let range = chunk.byte_range();
        if range.start > range.end || range.end > self.file.metadata().ok()?.len() {
            return None;
        }
        // SAFETY: the map is read only and lies inside the file as it is now. Like polars'
        // reader, which maps the file too, it relies on the file not being cut short while
        // the chunk is read.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(range.start)
                .len(usize::try_from(range.end - range.start).ok()?)
                .map(&self.file)
        }
        .ok()?;
        let pages = PageReader::new(
            Cursor::new(Buffer::from_owner(map)),
            chunk,
            Vec::new(),
            usize::MAX,
        );
        let mut pages = BasicDecompressor::new(pages, page_buffer);
        while let Some(item) = pages.next() {
            let item = item.ok()?;
            // A page is decompressed into the size its header declares: hold that to what
            // its values can fill, and its values to those the chunk has left.
            let n = item.num_values();
            if samples.len().checked_add(n)? > expected
                || item.page().uncompressed_size() > plain_bytes(n)?
                || !matches!(
                    Encoding::try_from(item.page().header().encoding()),
                    Ok(Encoding::Plain)
                )
            {
                return None;
            }
            let page = item.decompress(&mut pages).ok()?;
            append_plain(&page, samples)?;
            pages.reuse_page_buffer(page);
        }
        (samples.len() == expected).then(|| pages.into_inner())
    }
}

/// `read()`, or `None` where polars-parquet panicked, as it does on some damaged files (an
/// unknown encoding number, a footer offset that overflows); polars' own reader, which
/// reads the file next, then names the damage or is caught as palpa's bug. A failed
/// allocation aborts instead, so the sizes a file declares are bounded before it is made.
fn unpanicked<T>(read: impl FnOnce() -> Option<T>) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .ok()
        .flatten()
}

/// The most bytes a `PLAIN` page of `n` doubles holds: the values, and their definition
/// levels at one bit each at worst, with their length prefix and run headers.
fn plain_bytes(n: usize) -> Option<usize> {
    n.checked_mul(8)?.checked_add(n / 8 + 64)
}

/// The values of one page of `PLAIN` doubles with none missing, appended to `samples`.
fn append_plain(page: &DataPage, samples: &mut Vec<f64>) -> Option<()> {
    let n = page.num_values();
    let parts = split_buffer(page).ok()?;
    if page.descriptor.max_def_level > 0 && !all_present(parts.def, n)? {
        return None;
    }
    let values = parts.values.get(..n.checked_mul(8)?)?;
    samples.extend(
        values
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
    );
    Some(())
}

/// Whether the definition levels of `n` values say each is present: runs of 1 only.
fn all_present(levels: &[u8], n: usize) -> Option<bool> {
    let mut runs = HybridRleDecoder::new(levels, 1, n);
    let mut present = 0;
    while let Some(run) = runs.next_chunk().ok()? {
        match run {
            HybridRleChunk::Rle(1, len) => present += len,
            _ => return Some(false),
        }
    }
    Some(present == n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::table::{read_parquet, TimeRules};
    use polars::prelude::*;

    const ROWS: usize = 3000;
    const NAMES: [&str; 3] = ["time_s", "EMG UT L [uV]", "force [N]"];

    /// The rows of `tests/reference/make_parquet_fixtures.py`, in the order of `NAMES`.
    fn fixture_rows() -> [Vec<f64>; 3] {
        [
            (0..ROWS).map(|i| i as f64 / 1000.0).collect(),
            (0..ROWS).map(|i| ((i * 37) % 101) as f64 - 50.0).collect(),
            (0..ROWS).map(|i| 0.25 * (i % 7) as f64).collect(),
        ]
    }

    fn bits(x: &[f64]) -> Vec<u64> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn pyarrow_files_give_their_rows_whichever_reader_takes_each_column() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet");
        let rules = TimeRules {
            sidecar_fs_hz: None,
            gap_periods: 1.5,
        };
        // (file, whether the page reader takes each column)
        let cases = [
            ("plain_v1_snappy.parquet", [true; 3]),
            ("plain_v2_gzip.parquet", [true; 3]),
            ("plain_required_zstd.parquet", [true; 3]),
            ("dictionary.parquet", [false; 3]),
            ("nulls.parquet", [true, true, false]),
            ("narrow_types.parquet", [true, false, false]),
        ];
        for (file, taken) in cases {
            let path = dir.join(file);
            let mut expected = fixture_rows();
            if file == "nulls.parquet" {
                for i in (7..ROWS).step_by(500) {
                    expected[2][i] = f64::NAN;
                }
            }
            let pages = PageColumns::open(&path).expect("a readable footer");
            // Each column is read into the buffer of the column before, values and all.
            let mut spare = Vec::new();
            for ((name, taken), rows) in NAMES.iter().zip(taken).zip(&expected) {
                let given = (spare.capacity() >= ROWS).then_some(spare.as_ptr());
                match pages.read(name, std::mem::take(&mut spare)) {
                    Some(samples) => {
                        assert!(taken, "{file} `{name}`: read, but outside the layout");
                        assert_eq!(bits(&samples), bits(rows), "{file} `{name}`");
                        if let Some(given) = given {
                            assert_eq!(samples.as_ptr(), given, "{file} `{name}`: new buffer");
                        }
                        spare = samples;
                    }
                    None => assert!(!taken, "{file} `{name}`: left to polars"),
                }
            }
            for readers in [1, 2] {
                let rec = read_parquet(&path, rules, readers).expect("a valid recording");
                assert_eq!(rec.channels.len(), 2, "{file}");
                for (ch, rows) in rec.channels.iter().zip(&expected[1..]) {
                    let samples = ch.samples.as_slice().expect("contiguous");
                    assert_eq!(bits(samples), bits(rows), "{file} `{}`", ch.name);
                }
                assert_eq!(rec.channels[0].fs_hz, 1000.0, "{file}");
            }
        }
    }

    #[test]
    fn polars_files_are_read_page_by_page_to_the_bits_polars_reads() {
        let dir = tempfile::tempdir().unwrap();
        let special = [
            f64::NAN,
            -0.0,
            f64::INFINITY,
            f64::MIN_POSITIVE / 4.0,
            -1e300,
        ];
        let x: Vec<f64> = (0..20_000)
            .map(|i| {
                special
                    .get(i % 997)
                    .copied()
                    .unwrap_or((i as f64 * 0.37).sin())
            })
            .collect();
        let codecs = [
            ParquetCompression::Uncompressed,
            ParquetCompression::Snappy,
            ParquetCompression::Gzip(None),
            ParquetCompression::Lz4Raw,
            ParquetCompression::Zstd(None),
        ];
        for (k, codec) in codecs.into_iter().enumerate() {
            let path = dir.path().join(format!("{k}.parquet"));
            let mut df = df!("x" => &x).unwrap();
            ParquetWriter::new(File::create(&path).unwrap())
                .with_compression(codec)
                .with_row_group_size(Some(6_000))
                .with_data_page_size(Some(4_096))
                .finish(&mut df)
                .unwrap();
            let read = PageColumns::open(&path)
                .and_then(|p| p.read("x", Vec::new()))
                .unwrap_or_else(|| panic!("{codec:?}: left to polars"));
            let by_polars = ParquetReader::new(File::open(&path).unwrap())
                .finish()
                .unwrap();
            let by_polars: Vec<f64> = by_polars["x"].f64().unwrap().into_no_null_iter().collect();
            assert_eq!(bits(&read), bits(&by_polars), "{codec:?}");
            assert_eq!(bits(&read), bits(&x), "{codec:?}");
        }
    }

    /// Bytes of a v1 and a v2 file changed in turn, every byte of the footer and every
    /// seventh before it: the page reader answers (samples or `None`), and never panics.
    #[test]
    fn a_damaged_file_is_read_or_refused_without_a_panic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet");
        let work = tempfile::tempdir().unwrap();
        let path = work.path().join("damaged.parquet");
        for file in ["plain_v1_snappy.parquet", "plain_v2_gzip.parquet"] {
            let good = std::fs::read(dir.join(file)).unwrap();
            let n = good.len();
            let footer =
                n - 8 - u32::from_le_bytes(good[n - 8..n - 4].try_into().unwrap()) as usize;
            let places = (0..footer).step_by(7).chain(footer..n);
            for (at, flip) in places.zip([0x01, 0x80, 0xff].into_iter().cycle()) {
                let mut bytes = good.clone();
                bytes[at] ^= flip;
                std::fs::write(&path, &bytes).unwrap();
                let read = std::panic::catch_unwind(|| {
                    PageColumns::open(&path).map(|p| NAMES.map(|name| p.read(name, Vec::new())))
                });
                assert!(read.is_ok(), "{file}: byte {at} ^ {flip:#04x} panicked");
            }
        }
    }

    #[test]
    fn a_file_cut_short_after_its_footer_was_read_is_left_to_polars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.parquet");
        let mut df = df!("x" => vec![1.5; 50_000]).unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .with_compression(ParquetCompression::Uncompressed)
            .finish(&mut df)
            .unwrap();
        let pages = PageColumns::open(&path).expect("a readable footer");
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(1000)
            .unwrap();
        // Mapping past the end and reading there would stop the process with SIGBUS.
        assert_eq!(pages.read("x", Vec::new()), None);
    }
}
