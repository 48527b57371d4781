//! EDF, EDF+, BDF and BDF+ (DESIGN §2.2): header, samples by record, and EDF+ annotations.
//!
//! Why palpa has its own reader: edf-rs 0.2.0 (the best crate, research/peers.md) panics on
//! an inverted physical range (`test_subsecond.edf`) and on a header with zero signals,
//! rejects headers with Latin-1 bytes, and its errors name no field. This reader:
//! - decodes header text as Latin-1 (EDF allows only ASCII, but `µV` in Latin-1 is common);
//! - checks every size against the file before allocating, so a lying header is an error,
//!   never a huge allocation;
//! - reads records in chunks (never the whole file at once) straight into per-signal arrays;
//! - maps digital to physical with the header's linear map, whose gain may be negative;
//! - turns EDF+ TALs into [`Annotation`]s relative to the first sample: the first record's
//!   time-keeping onset is the sub-second start, and EDF+D records keep their onsets, their
//!   breaks becoming [`TimeGap`]s on the sample axis.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use ndarray::{Array1, ArrayView1};

use super::IngestError;
use crate::model::{Annotation, TimeGap};

/// Two onsets closer than this are the same instant (TALs carry 7 decimals at most).
const ONSET_TOLERANCE_S: f64 = 1e-6;
/// Bytes of records read from disk at once (whole records, at least one).
const READ_CHUNK_BYTES: usize = 1 << 20;

/// 16-bit EDF or 24-bit BDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// European Data Format, 16-bit little-endian samples.
    Edf,
    /// BioSemi Data Format, 24-bit little-endian samples.
    Bdf,
}

impl Variant {
    /// Bytes per sample.
    pub fn sample_bytes(self) -> usize {
        match self {
            Variant::Edf => 2,
            Variant::Bdf => 3,
        }
    }

    fn digital_limits(self) -> [i64; 2] {
        match self {
            Variant::Edf => [-32_768, 32_767],
            Variant::Bdf => [-8_388_608, 8_388_607],
        }
    }
}

/// Whether the file is plain EDF/BDF or EDF+/BDF+ continuous or discontinuous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continuity {
    /// Plain EDF or BDF: no annotations signal, start on the whole second.
    Plain,
    /// `EDF+C` / `BDF+C`.
    Continuous,
    /// `EDF+D` / `BDF+D`: records may be separated by breaks.
    Discontinuous,
}

/// The main header and one [`EdfSignal`] per signal.
#[derive(Clone, Debug, PartialEq)]
pub struct EdfHeader {
    /// EDF or BDF.
    pub variant: Variant,
    /// Plain, EDF+C or EDF+D.
    pub continuity: Continuity,
    /// Local patient identification.
    pub patient: String,
    /// Local recording identification.
    pub recording: String,
    /// Start date as written, `dd.mm.yy`.
    pub start_date: String,
    /// Start time as written, `hh.mm.ss`.
    pub start_time: String,
    /// Header length: 256 × (signals + 1).
    pub header_bytes: usize,
    /// Data records in the file (a declared −1 is resolved from the file size).
    pub n_records: usize,
    /// Duration of one data record.
    pub record_duration_s: f64,
    /// Every signal, annotation signals included, in header order.
    pub signals: Vec<EdfSignal>,
}

/// One signal's header fields.
#[derive(Clone, Debug, PartialEq)]
pub struct EdfSignal {
    /// Label, trimmed.
    pub label: String,
    /// Transducer type.
    pub transducer: String,
    /// Physical dimension (unit) as written.
    pub physical_dimension: String,
    /// Physical value of `digital_min`.
    pub physical_min: f64,
    /// Physical value of `digital_max`.
    pub physical_max: f64,
    /// Lowest digital value.
    pub digital_min: i64,
    /// Highest digital value.
    pub digital_max: i64,
    /// Prefiltering as written.
    pub prefiltering: String,
    /// Samples in each data record.
    pub samples_per_record: usize,
    /// Signal reserved field.
    pub reserved: String,
}

impl EdfSignal {
    /// True for the EDF+/BDF+ annotations signal.
    pub fn is_annotations(&self) -> bool {
        matches!(self.label.as_str(), "EDF Annotations" | "BDF Annotations")
    }

    /// Gain and offset of `physical = offset + gain · digital`.
    pub fn scaling(&self) -> (f64, f64) {
        linear_map(
            [self.physical_min, self.physical_max],
            [self.digital_min, self.digital_max],
        )
    }
}

/// Gain and offset of `physical = offset + gain · digital` mapping the digital range onto the
/// physical one (the gain is negative when the physical range is inverted).
fn linear_map([pmin, pmax]: [f64; 2], [dmin, dmax]: [i64; 2]) -> (f64, f64) {
    let gain = (pmax - pmin) / (dmax - dmin) as f64;
    (gain, pmin - gain * dmin as f64)
}

impl EdfHeader {
    /// `EDF`, `EDF+C`, `BDF+D`, … as `inspect` states the format.
    pub fn format_name(&self) -> String {
        let variant = match self.variant {
            Variant::Edf => "EDF",
            Variant::Bdf => "BDF",
        };
        let plus = match self.continuity {
            Continuity::Plain => "",
            Continuity::Continuous => "+C",
            Continuity::Discontinuous => "+D",
        };
        format!("{variant}{plus}")
    }

    /// Sampling rate of signal `i`.
    pub fn fs_hz(&self, i: usize) -> f64 {
        self.signals[i].samples_per_record as f64 / self.record_duration_s
    }

    /// Byte offset of each signal inside a data record, and its length in bytes.
    pub fn record_layout(&self) -> Vec<(usize, usize)> {
        let bps = self.variant.sample_bytes();
        let mut at = 0;
        self.signals
            .iter()
            .map(|s| {
                let len = s.samples_per_record * bps;
                at += len;
                (at - len, len)
            })
            .collect()
    }

    /// Bytes in one data record.
    pub fn record_bytes(&self) -> usize {
        self.signals
            .iter()
            .map(|s| s.samples_per_record)
            .sum::<usize>()
            * self.variant.sample_bytes()
    }

    /// Start as `YYYY-MM-DDTHH:MM:SS` (EDF's two-digit year: 85–99 → 19xx, else 20xx).
    pub fn start_iso(&self) -> Option<String> {
        let num = |s: &str| s.parse::<u32>().ok();
        let d: Vec<_> = self.start_date.split('.').map(num).collect();
        let t: Vec<_> = self.start_time.split('.').map(num).collect();
        match (d.as_slice(), t.as_slice()) {
            ([Some(day), Some(month), Some(yy)], [Some(hour), Some(minute), Some(second)])
                if (1..=31).contains(day) && (1..=12).contains(month) && *yy < 100 =>
            {
                let year = if *yy >= 85 { 1900 + yy } else { 2000 + yy };
                Some(format!(
                    "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
                ))
            }
            _ => None,
        }
    }
}

/// A whole file: header, physical samples of the ordinary signals, and its time line.
#[derive(Clone, Debug)]
pub struct EdfData {
    /// The header.
    pub header: EdfHeader,
    /// `(header index, physical samples)` of every signal except annotation signals.
    pub signals: Vec<(usize, Array1<f64>)>,
    /// Start offset, annotations and breaks.
    pub timeline: Timeline,
}

/// What the EDF+ time-keeping and annotation TALs say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Sub-second start: onset of the first record's time-keeping TAL.
    pub start_offset_s: f64,
    /// Annotations on the sample axis, sorted by onset.
    pub annotations: Vec<Annotation>,
    /// Breaks between EDF+D records.
    pub gaps: Vec<TimeGap>,
}

/// Reads and checks the header, including every size against the file's length.
///
/// # Errors
/// [`IngestError::Format`] naming the header field (and signal) that is wrong.
pub fn read_header(path: &Path) -> Result<EdfHeader, IngestError> {
    let mut file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| IngestError::io(path, e))?.len();
    if file_len < 256 {
        return Err(IngestError::format(
            path,
            "header",
            "an EDF/BDF header of at least 256 bytes",
            format!("a file of {file_len} bytes"),
        ));
    }
    let mut fixed = [0u8; 256];
    file.read_exact(&mut fixed)
        .map_err(|e| IngestError::io(path, e))?;
    let field = |range: std::ops::Range<usize>| latin1(&fixed[range]);

    let variant = if fixed[0] == 0xFF && &fixed[1..8] == b"BIOSEMI" {
        Variant::Bdf
    } else if field(0..8) == "0" {
        Variant::Edf
    } else {
        return Err(IngestError::format(
            path,
            "header field `version`",
            "`0` (EDF) or the BDF marker, the byte 0xFF then `BIOSEMI`",
            format!(
                "the bytes {}: this is not an EDF or BDF file",
                fixed[..8]
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ));
    };
    let reserved = field(192..236);
    let continuity = if reserved.starts_with("EDF+C") || reserved.starts_with("BDF+C") {
        Continuity::Continuous
    } else if reserved.starts_with("EDF+D") || reserved.starts_with("BDF+D") {
        Continuity::Discontinuous
    } else {
        Continuity::Plain
    };

    let ns: usize = parse_field(path, "number of signals", None, &field(252..256))?;
    let header_bytes = 256 * (ns + 1);
    if header_bytes as u64 > file_len {
        return Err(IngestError::format(
            path,
            "header field `number of signals`",
            format!("a count whose header ({header_bytes} bytes) fits in the file"),
            format!("{ns} signals in a file of {file_len} bytes"),
        ));
    }
    let declared_header_bytes: usize = parse_field(
        path,
        "number of bytes in header record",
        None,
        &field(184..192),
    )?;
    if declared_header_bytes != header_bytes {
        return Err(IngestError::format(
            path,
            "header field `number of bytes in header record`",
            format!("256 × (1 + {ns} signals) = {header_bytes}"),
            declared_header_bytes.to_string(),
        ));
    }
    let declared_records: i64 =
        parse_field(path, "number of data records", None, &field(236..244))?;
    if declared_records < -1 {
        return Err(IngestError::format(
            path,
            "header field `number of data records`",
            "a count ≥ 0, or −1 for unknown",
            declared_records.to_string(),
        ));
    }
    let record_duration_s: f64 =
        parse_field(path, "duration of a data record", None, &field(244..252))?;
    if !(record_duration_s.is_finite() && record_duration_s >= 0.0) {
        return Err(IngestError::format(
            path,
            "header field `duration of a data record`",
            "a finite duration in seconds, 0 or more (0 only for a file of annotations alone)",
            field(244..252),
        ));
    }

    let mut block = vec![0u8; 256 * ns];
    file.read_exact(&mut block)
        .map_err(|e| IngestError::io(path, e))?;
    let signals = parse_signals(path, variant, &block, ns)?;

    let mut header = EdfHeader {
        variant,
        continuity,
        patient: field(8..88),
        recording: field(88..168),
        start_date: field(168..176),
        start_time: field(176..184),
        header_bytes,
        n_records: 0,
        record_duration_s,
        signals,
    };
    let has_samples = header.signals.iter().any(|s| !s.is_annotations());
    if has_samples && record_duration_s == 0.0 {
        return Err(IngestError::format(
            path,
            "header field `duration of a data record`",
            "a duration > 0 s in a file with signals",
            "0",
        ));
    }
    header.n_records = check_data_size(path, &header, declared_records, file_len)?;
    Ok(header)
}

/// Field widths of the signal block, in header order.
const SIGNAL_FIELDS: [(&str, usize); 10] = [
    ("label", 16),
    ("transducer type", 80),
    ("physical dimension", 8),
    ("physical minimum", 8),
    ("physical maximum", 8),
    ("digital minimum", 8),
    ("digital maximum", 8),
    ("prefiltering", 80),
    ("number of samples in each data record", 8),
    ("reserved", 32),
];

fn parse_signals(
    path: &Path,
    variant: Variant,
    block: &[u8],
    ns: usize,
) -> Result<Vec<EdfSignal>, IngestError> {
    let mut starts = [0usize; 10];
    let mut offset = 0;
    for (start, (_, width)) in starts.iter_mut().zip(SIGNAL_FIELDS) {
        *start = offset;
        offset += width * ns;
    }
    let text = |f: usize, i: usize| {
        let width = SIGNAL_FIELDS[f].1;
        let at = starts[f] + i * width;
        latin1(&block[at..at + width])
    };
    let [dig_lo, dig_hi] = variant.digital_limits();
    let mut signals = Vec::with_capacity(ns);
    for i in 0..ns {
        let label = text(0, i);
        let num = |f: usize| -> Result<f64, IngestError> {
            parse_field(path, SIGNAL_FIELDS[f].0, Some((i, &label)), &text(f, i))
        };
        let int = |f: usize| -> Result<i64, IngestError> {
            parse_field(path, SIGNAL_FIELDS[f].0, Some((i, &label)), &text(f, i))
        };
        let signal = EdfSignal {
            transducer: text(1, i),
            physical_dimension: text(2, i),
            physical_min: num(3)?,
            physical_max: num(4)?,
            digital_min: int(5)?,
            digital_max: int(6)?,
            prefiltering: text(7, i),
            samples_per_record: parse_field(
                path,
                SIGNAL_FIELDS[8].0,
                Some((i, &label)),
                &text(8, i),
            )?,
            reserved: text(9, i),
            label,
        };
        let place = |field: &str| signal_place(i, &signal.label, field);
        if signal.samples_per_record == 0 {
            return Err(IngestError::format(
                path,
                place("number of samples in each data record"),
                "at least 1",
                "0",
            ));
        }
        for (f, value) in [(5, signal.digital_min), (6, signal.digital_max)] {
            if !(dig_lo..=dig_hi).contains(&value) {
                return Err(IngestError::format(
                    path,
                    place(SIGNAL_FIELDS[f].0),
                    format!(
                        "a whole number from {dig_lo} to {dig_hi} ({}-bit samples)",
                        variant.sample_bytes() * 8
                    ),
                    value.to_string(),
                ));
            }
        }
        if !signal.is_annotations() {
            if signal.digital_min >= signal.digital_max {
                return Err(IngestError::format(
                    path,
                    place("digital minimum"),
                    format!("a value below the digital maximum ({})", signal.digital_max),
                    signal.digital_min.to_string(),
                ));
            }
            if signal.physical_min == signal.physical_max || !signal.physical_min.is_finite() {
                return Err(IngestError::format(
                    path,
                    place("physical minimum"),
                    format!(
                        "a finite value different from the physical maximum ({})",
                        signal.physical_max
                    ),
                    signal.physical_min.to_string(),
                ));
            }
        }
        signals.push(signal);
    }
    Ok(signals)
}

/// Checks the declared record count against the file size; returns the record count.
fn check_data_size(
    path: &Path,
    header: &EdfHeader,
    declared_records: i64,
    file_len: u64,
) -> Result<usize, IngestError> {
    let record_bytes = header.record_bytes() as u64;
    let data_len = file_len - header.header_bytes as u64;
    if record_bytes == 0 {
        // No signals: nothing may follow the header.
        return if data_len == 0 {
            Ok(0)
        } else {
            Err(IngestError::format(
                path,
                "header field `number of signals`",
                "signals to hold the data after the header",
                format!("0 signals and {data_len} bytes of data"),
            ))
        };
    }
    let complete = data_len / record_bytes;
    let partial = data_len % record_bytes;
    if declared_records == -1 {
        if partial == 0 {
            return usize::try_from(complete).map_err(|_| {
                IngestError::format(
                    path,
                    "data records",
                    "a file small enough to read",
                    format!("{complete} records"),
                )
            });
        }
        if complete >= 1 {
            return Err(truncated(path, complete, record_bytes, partial));
        }
        return Err(IngestError::format(
            path,
            "data after the header",
            format!(
                "at least one data record of {record_bytes} bytes (from the signals' header \
                 field `number of samples in each data record`)"
            ),
            format!("{data_len} bytes"),
        ));
    }
    let declared = declared_records as u64;
    let expected = declared.checked_mul(record_bytes);
    if expected == Some(data_len) {
        return Ok(declared as usize);
    }
    // Cut inside a record after at least one whole one: truncated. Anything else is a
    // header whose sizes do not fit the file.
    if complete >= 1 && complete < declared && partial != 0 {
        return Err(truncated(path, complete, record_bytes, partial));
    }
    Err(IngestError::format(
        path,
        "data after the header",
        format!(
            "{declared} data records × {record_bytes} bytes (from the header fields \
             `number of data records` and `number of samples in each data record`, {} bytes \
             a sample)",
            header.variant.sample_bytes()
        ),
        format!(
            "{data_len} bytes, i.e. {complete} records{}: the file is cut short or the header \
             is wrong",
            if partial == 0 {
                String::new()
            } else {
                format!(" and {partial} bytes")
            }
        ),
    ))
}

fn truncated(path: &Path, complete: u64, record_bytes: u64, partial: u64) -> IngestError {
    IngestError::format(
        path,
        format!("data record {}", complete + 1),
        format!("{record_bytes} bytes"),
        format!("{partial} bytes before the end of the file (truncated)"),
    )
}

fn signal_place(i: usize, label: &str, field: &str) -> String {
    format!("signal {} `{label}`, header field `{field}`", i + 1)
}

fn parse_field<T: std::str::FromStr>(
    path: &Path,
    field: &str,
    signal: Option<(usize, &str)>,
    text: &str,
) -> Result<T, IngestError> {
    text.parse().map_err(|_| {
        let place = match signal {
            Some((i, label)) => signal_place(i, label, field),
            None => format!("header field `{field}`"),
        };
        let expected = if std::any::type_name::<T>() == "f64" {
            "a number"
        } else {
            "a whole number"
        };
        IngestError::format(path, place, expected, format!("`{text}`"))
    })
}

/// Header bytes as text: Latin-1, so any byte decodes; trimmed of padding.
fn latin1(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Reads the whole file: header, every ordinary signal in physical units, and the time line.
/// The data records are read in chunks of whole records, each chunk decoded into the
/// signals' arrays before the next is read, so the file is never held in memory at once.
///
/// # Errors
/// As [`read_header`], plus malformed annotations (naming the record) and I/O errors.
pub fn read(path: &Path) -> Result<EdfData, IngestError> {
    let header = read_header(path)?;
    let n_records = header.n_records;
    let ordinary: Vec<usize> = (0..header.signals.len())
        .filter(|&i| !header.signals[i].is_annotations())
        .collect();
    let annotation_signals: Vec<usize> = (0..header.signals.len())
        .filter(|&i| header.signals[i].is_annotations())
        .collect();
    let scaling: Vec<(f64, f64)> = ordinary
        .iter()
        .map(|&i| header.signals[i].scaling())
        .collect();
    let layout = header.record_layout();
    let record_bytes = header.record_bytes();
    // Sizes were checked against the file length, so these allocations are bounded by it.
    let mut out: Vec<Vec<f64>> = ordinary
        .iter()
        .map(|&i| vec![0.0; n_records * header.signals[i].samples_per_record])
        .collect();
    let mut tals: Vec<Vec<u8>> = Vec::new();

    let mut file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    file.seek(SeekFrom::Start(header.header_bytes as u64))
        .map_err(|e| IngestError::io(path, e))?;
    let per_chunk = (READ_CHUNK_BYTES / record_bytes.max(1)).max(1);
    let mut bytes = Vec::new();
    for first in (0..n_records).step_by(per_chunk) {
        let span = first..(first + per_chunk).min(n_records);
        bytes.resize(span.len() * record_bytes, 0);
        file.read_exact(&mut bytes)
            .map_err(|e| IngestError::io(path, e))?;
        for (r, rec) in span.zip(bytes.chunks_exact(record_bytes)) {
            for ((&i, &scaling), dst) in ordinary.iter().zip(&scaling).zip(&mut out) {
                let spr = header.signals[i].samples_per_record;
                let (at, len) = layout[i];
                decode(
                    header.variant,
                    &rec[at..at + len],
                    scaling,
                    &mut dst[r * spr..(r + 1) * spr],
                );
            }
            if !annotation_signals.is_empty() {
                tals.push(
                    annotation_signals
                        .iter()
                        .flat_map(|&i| {
                            let (at, len) = layout[i];
                            rec[at..at + len].iter().copied()
                        })
                        .collect(),
                );
            }
        }
    }
    let timeline = build_timeline(path, &header, &tals)?;
    let signals = ordinary
        .into_iter()
        .zip(out)
        .map(|(i, v)| (i, Array1::from(v)))
        .collect();
    Ok(EdfData {
        header,
        signals,
        timeline,
    })
}

/// Reads only the header and the annotation bytes of each record (for `inspect`).
///
/// # Errors
/// As [`read`].
pub fn read_timeline(path: &Path, header: &EdfHeader) -> Result<Timeline, IngestError> {
    let spans: Vec<(usize, usize)> = header
        .record_layout()
        .into_iter()
        .zip(&header.signals)
        .filter(|(_, s)| s.is_annotations())
        .map(|(span, _)| span)
        .collect();
    if spans.is_empty() {
        return build_timeline(path, header, &[]);
    }
    let mut file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let record_bytes = header.record_bytes() as u64;
    let mut tals = Vec::with_capacity(header.n_records);
    for r in 0..header.n_records as u64 {
        let mut bytes = Vec::new();
        for &(offset, len) in &spans {
            let pos = header.header_bytes as u64 + r * record_bytes + offset as u64;
            file.seek(SeekFrom::Start(pos))
                .map_err(|e| IngestError::io(path, e))?;
            let start = bytes.len();
            bytes.resize(start + len, 0);
            file.read_exact(&mut bytes[start..])
                .map_err(|e| IngestError::io(path, e))?;
        }
        tals.push(bytes);
    }
    build_timeline(path, header, &tals)
}

fn decode(variant: Variant, bytes: &[u8], (gain, offset): (f64, f64), dst: &mut [f64]) {
    match variant {
        Variant::Edf => {
            for (d, b) in dst.iter_mut().zip(bytes.chunks_exact(2)) {
                *d = offset + gain * f64::from(i16::from_le_bytes([b[0], b[1]]));
            }
        }
        Variant::Bdf => {
            for (d, b) in dst.iter_mut().zip(bytes.chunks_exact(3)) {
                // Sign-extend 24 bits by placing them in the top of an i32.
                let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                *d = offset + gain * f64::from(v);
            }
        }
    }
}

/// One time-stamped annotation list (EDF+ spec §2.2.2).
struct Tal {
    onset_s: f64,
    duration_s: Option<f64>,
    texts: Vec<String>,
}

fn parse_tals(path: &Path, record: usize, bytes: &[u8]) -> Result<Vec<Tal>, IngestError> {
    let place = || format!("data record {}, EDF+ annotations", record + 1);
    let mut tals = Vec::new();
    for raw in bytes.split(|&b| b == 0).filter(|t| !t.is_empty()) {
        let Some(end) = raw.iter().position(|&b| b == 0x14) else {
            return Err(IngestError::format(
                path,
                place(),
                "an onset, an optional duration and texts, separated by the EDF+ control \
                 bytes 0x15 and 0x14",
                format!("`{}`", String::from_utf8_lossy(raw)),
            ));
        };
        let time = String::from_utf8_lossy(&raw[..end]);
        let (onset, duration) = match time.split_once('\u{15}') {
            Some((o, d)) => (o, Some(d)),
            None => (time.as_ref(), None),
        };
        let number = |s: &str, what: &str| {
            let ok = s.starts_with(['+', '-']) || what == "duration";
            s.parse::<f64>()
                .ok()
                .filter(|v| ok && v.is_finite())
                .ok_or_else(|| {
                    IngestError::format(
                        path,
                        place(),
                        if what == "duration" {
                            "an annotation duration in seconds, such as `0.5`"
                        } else {
                            "an annotation onset in seconds with its sign, such as `+1.5`"
                        },
                        format!("`{s}`"),
                    )
                })
        };
        let onset_s = number(onset, "onset")?;
        let duration_s = duration
            .filter(|d| !d.is_empty())
            .map(|d| number(d, "duration"))
            .transpose()?;
        let mut texts: Vec<String> = raw[end + 1..]
            .split(|&b| b == 0x14)
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .collect();
        // A TAL ends with 0x14, which leaves one empty piece after it.
        if texts.last().is_some_and(String::is_empty) {
            texts.pop();
        }
        tals.push(Tal {
            onset_s,
            duration_s,
            texts,
        });
    }
    Ok(tals)
}

fn build_timeline(
    path: &Path,
    header: &EdfHeader,
    records: &[Vec<u8>],
) -> Result<Timeline, IngestError> {
    if header.continuity == Continuity::Plain || records.is_empty() {
        return Ok(Timeline::default());
    }
    let duration = header.record_duration_s;
    let mut record_onsets = Vec::with_capacity(records.len());
    let mut raw_annotations = Vec::new();
    for (r, bytes) in records.iter().enumerate() {
        let tals = parse_tals(path, r, bytes)?;
        let Some(first) = tals
            .first()
            .filter(|t| t.texts.first().is_some_and(String::is_empty))
        else {
            return Err(IngestError::format(
                path,
                format!("data record {}, EDF+ annotations", r + 1),
                "the record's time stamp (an onset with no text) as the first annotation",
                match tals.first() {
                    Some(t) => format!("`{:+}` with text `{}`", t.onset_s, t.texts.join(" ")),
                    None => "no annotation".to_string(),
                },
            ));
        };
        if let Some(&prev) = record_onsets.last() {
            if first.onset_s < prev + duration - ONSET_TOLERANCE_S {
                return Err(IngestError::format(
                    path,
                    format!("data record {}, time-keeping annotation", r + 1),
                    format!(
                        "an onset at or after the previous record's end ({} s)",
                        prev + duration
                    ),
                    format!("{} s", first.onset_s),
                ));
            }
        }
        record_onsets.push(first.onset_s);
        for (t, tal) in tals.iter().enumerate() {
            // The time-keeping TAL's first (empty) text only stamps the record.
            let skip = usize::from(t == 0);
            for text in tal.texts.iter().skip(skip) {
                raw_annotations.push((tal.onset_s, tal.duration_s, text.clone()));
            }
        }
    }
    let start = record_onsets[0];
    let mut gaps = Vec::new();
    for r in 1..record_onsets.len() {
        let gap = record_onsets[r] - (record_onsets[r - 1] + duration);
        if gap > ONSET_TOLERANCE_S {
            gaps.push(TimeGap {
                at_s: r as f64 * duration,
                gap_s: gap,
            });
        }
    }
    // Wall time → sample axis: relative to the record the onset falls in.
    let to_sample_axis = |onset: f64| {
        let r = record_onsets
            .partition_point(|&o| o <= onset)
            .saturating_sub(1);
        let within = (onset - record_onsets[r]).min(if r + 1 < record_onsets.len() {
            duration
        } else {
            f64::INFINITY
        });
        r as f64 * duration + within
    };
    let mut annotations: Vec<Annotation> = raw_annotations
        .into_iter()
        .map(|(onset, duration_s, text)| Annotation {
            onset_s: if gaps.is_empty() {
                onset - start
            } else {
                to_sample_axis(onset)
            },
            duration_s,
            text,
            muscle: None,
            side: None,
            site: None,
        })
        .collect();
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    Ok(Timeline {
        start_offset_s: start,
        annotations,
        gaps,
    })
}

/// One signal to write.
#[derive(Clone, Debug)]
pub struct SignalToWrite<'a> {
    /// Label (≤ 16 characters).
    pub label: &'a str,
    /// Physical dimension (≤ 8 characters).
    pub unit: &'a str,
    /// Physical values of the digital limits.
    pub physical_range: [f64; 2],
    /// Digital limits.
    pub digital_range: [i64; 2],
    /// Samples per data record.
    pub samples_per_record: usize,
    /// Physical samples; a whole number of records.
    pub samples: ArrayView1<'a, f64>,
}

/// A file to write with [`write()`].
#[derive(Clone, Debug)]
pub struct FileToWrite<'a> {
    /// EDF or BDF.
    pub variant: Variant,
    /// Plain, or `+C` with an annotations signal (`+D` is not written).
    pub continuity: Continuity,
    /// Local patient identification.
    pub patient: &'a str,
    /// Local recording identification.
    pub recording: &'a str,
    /// `dd.mm.yy`.
    pub start_date: &'a str,
    /// `hh.mm.ss`.
    pub start_time: &'a str,
    /// Sub-second start, written in the first time-keeping TAL (EDF+/BDF+ only).
    pub start_offset_s: f64,
    /// Duration of a data record.
    pub record_duration_s: f64,
    /// Ordinary signals.
    pub signals: Vec<SignalToWrite<'a>>,
    /// Annotations (EDF+/BDF+ only), onsets relative to the first sample.
    pub annotations: &'a [Annotation],
}

/// Writes an EDF/EDF+/BDF/BDF+ file; used by the simulator, tests and benchmarks.
///
/// Physical values are quantised to the nearest digital value and clamped to the digital
/// range.
///
/// # Errors
/// A signal whose length is not a whole number of records, or that disagrees with the
/// others; a field too wide for the header; I/O errors.
pub fn write(path: &Path, spec: &FileToWrite<'_>) -> Result<(), IngestError> {
    let bps = spec.variant.sample_bytes();
    let n_records = match spec.signals.first() {
        Some(s) => s.samples.len() / s.samples_per_record,
        None => 1,
    };
    for (i, s) in spec.signals.iter().enumerate() {
        if s.samples.len() != n_records * s.samples_per_record {
            return Err(IngestError::format(
                path,
                format!("signal {} `{}`", i + 1, s.label),
                format!("{n_records} records × {} samples", s.samples_per_record),
                format!("{} samples", s.samples.len()),
            ));
        }
    }
    let plus = spec.continuity != Continuity::Plain;
    let tal_records = if plus {
        annotation_records(spec, n_records)
    } else {
        Vec::new()
    };
    let tal_spr = tal_records
        .iter()
        .map(Vec::len)
        .max()
        .map_or(0, |len| len.div_ceil(bps));
    let ns = spec.signals.len() + usize::from(plus);

    let mut h = HeaderWriter::new(path);
    match spec.variant {
        Variant::Edf => h.field("0", 8)?,
        Variant::Bdf => {
            h.bytes.push(0xFF);
            h.field("BIOSEMI", 7)?;
        }
    }
    h.field(spec.patient, 80)?;
    h.field(spec.recording, 80)?;
    h.field(spec.start_date, 8)?;
    h.field(spec.start_time, 8)?;
    h.field(&(256 * (ns + 1)).to_string(), 8)?;
    let reserved = match (spec.variant, plus) {
        (Variant::Edf, true) => "EDF+C",
        (Variant::Bdf, true) => "BDF+C",
        (Variant::Bdf, false) => "24BIT",
        (Variant::Edf, false) => "",
    };
    h.field(reserved, 44)?;
    h.field(&n_records.to_string(), 8)?;
    h.field(&number(spec.record_duration_s), 8)?;
    h.field(&ns.to_string(), 4)?;

    let annot_label = if spec.variant == Variant::Edf {
        "EDF Annotations"
    } else {
        "BDF Annotations"
    };
    let [dig_lo, dig_hi] = spec.variant.digital_limits();
    type Column<'s> = Box<dyn Fn(&SignalToWrite<'_>) -> String + 's>;
    let columns: [(usize, Column<'_>, String); 10] = [
        (16, Box::new(|s| s.label.to_string()), annot_label.into()),
        (80, Box::new(|_| String::new()), String::new()),
        (8, Box::new(|s| s.unit.to_string()), String::new()),
        (8, Box::new(|s| number(s.physical_range[0])), "-1".into()),
        (8, Box::new(|s| number(s.physical_range[1])), "1".into()),
        (
            8,
            Box::new(|s| s.digital_range[0].to_string()),
            dig_lo.to_string(),
        ),
        (
            8,
            Box::new(|s| s.digital_range[1].to_string()),
            dig_hi.to_string(),
        ),
        (80, Box::new(|_| String::new()), String::new()),
        (
            8,
            Box::new(|s| s.samples_per_record.to_string()),
            tal_spr.to_string(),
        ),
        (32, Box::new(|_| String::new()), String::new()),
    ];
    for (width, value, annotation_value) in &columns {
        for s in &spec.signals {
            h.field(&value(s), *width)?;
        }
        if plus {
            h.field(annotation_value, *width)?;
        }
    }

    let file = File::create(path).map_err(|e| IngestError::io(path, e))?;
    let mut out = BufWriter::new(file);
    let io = |e| IngestError::io(path, e);
    out.write_all(&h.bytes).map_err(io)?;
    let scalings: Vec<(f64, f64)> = spec
        .signals
        .iter()
        .map(|s| linear_map(s.physical_range, s.digital_range))
        .collect();
    let mut record = Vec::new();
    for r in 0..n_records {
        record.clear();
        for (s, &(gain, offset)) in spec.signals.iter().zip(&scalings) {
            let spr = s.samples_per_record;
            for &x in s.samples.slice(ndarray::s![r * spr..(r + 1) * spr]) {
                let d = ((x - offset) / gain)
                    .round()
                    .clamp(s.digital_range[0] as f64, s.digital_range[1] as f64)
                    as i32;
                record.extend_from_slice(&d.to_le_bytes()[..bps]);
            }
        }
        if let Some(tal) = tal_records.get(r) {
            record.extend_from_slice(tal);
            record.resize(record.len() + tal_spr * bps - tal.len(), 0);
        }
        out.write_all(&record).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// TAL bytes per record: the time-keeping TAL, then the annotations starting in it.
fn annotation_records(spec: &FileToWrite<'_>, n_records: usize) -> Vec<Vec<u8>> {
    let duration = spec.record_duration_s;
    (0..n_records)
        .map(|r| {
            let t0 = r as f64 * duration;
            let mut bytes =
                format!("+{}\u{14}\u{14}\0", number(spec.start_offset_s + t0)).into_bytes();
            let last = r + 1 == n_records;
            for a in spec.annotations.iter().filter(|a| {
                let first = r == 0 && a.onset_s < t0;
                first || (a.onset_s >= t0 && (last || a.onset_s < t0 + duration))
            }) {
                let onset = spec.start_offset_s + a.onset_s;
                let sign = if onset < 0.0 { "" } else { "+" };
                bytes.extend_from_slice(format!("{sign}{}", number(onset)).as_bytes());
                if let Some(d) = a.duration_s {
                    bytes.extend_from_slice(format!("\u{15}{}", number(d)).as_bytes());
                }
                bytes.extend_from_slice(format!("\u{14}{}\u{14}\0", a.text).as_bytes());
            }
            bytes
        })
        .collect()
}

/// Shortest decimal that reads back as `x` (no exponent, which EDF readers reject).
fn number(x: f64) -> String {
    format!("{x}")
}

/// Builds the ASCII header, refusing a value wider than its field.
struct HeaderWriter<'p> {
    path: &'p Path,
    bytes: Vec<u8>,
}

impl<'p> HeaderWriter<'p> {
    fn new(path: &'p Path) -> Self {
        HeaderWriter {
            path,
            bytes: Vec::new(),
        }
    }

    fn field(&mut self, value: &str, width: usize) -> Result<(), IngestError> {
        if value.len() > width || !value.is_ascii() {
            return Err(IngestError::format(
                self.path,
                "header field to write",
                format!("at most {width} ASCII characters"),
                format!("{value:?}"),
            ));
        }
        self.bytes.extend_from_slice(value.as_bytes());
        self.bytes
            .resize(self.bytes.len() + width - value.len(), b' ');
        Ok(())
    }
}
