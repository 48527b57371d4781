//! C3D (DESIGN §2.2): the analog channels of a motion-lab file, each at `ANALOG:RATE`.
//!
//! Why palpa has its own reader: c3dio 0.8.0 indexes `ANALOG:SCALE`/`OFFSET` by channel
//! without checking their length (a short array panics) and its errors name no parameter;
//! the part palpa needs is small. This reader:
//! - reads the 512-byte header, the parameter section (groups, then parameters with type,
//!   dimensions and data), then the data section frame by frame: each frame holds
//!   `POINT:USED` points × 4 words, then analog samples per frame × `ANALOG:USED` words,
//!   sample-major; points (markers) are skipped, they are not channels;
//! - knows the three processor types of the parameter section's byte 4: Intel (84,
//!   little-endian IEEE), DEC (85, little-endian integers, VAX F floats) and MIPS/SGI (86,
//!   big-endian IEEE);
//! - scales as the C3D spec says, `(raw - ANALOG:OFFSET) * ANALOG:SCALE * ANALOG:GEN_SCALE`,
//!   for integer storage (a negative `POINT:SCALE`) and float storage alike: the spec stores
//!   floats as unscaled ADC values and applies the same formula to them;
//!   `ANALOG:FORMAT = UNSIGNED` reads samples and offsets as unsigned 16-bit;
//! - takes labels (trimmed; an empty one becomes `Analog <n>`, a repeat gets ` (2)`, …),
//!   units, scales and offsets from `LABELS`, `LABELS2`, … as C3D continues arrays past 255;
//! - counts frames by the spec's rule (`POINT:FRAMES`, past 65535 `POINT:LONG_FRAMES` or the
//!   `TRIAL` fields) and checks the data section holds them before allocating;
//! - turns `EVENT:LABELS`/`TIMES`/`CONTEXTS` (when `EVENT:USED > 0`) into [`Annotation`]s
//!   relative to the first stored frame (event times count from frame 1); header events are
//!   older duplicates of these and are not read.
//!
//! A channel's physical range is the one its integer storage can represent; float storage
//! states none.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ndarray::Array1;

use super::{IngestError, RawChannel, RawRecording};
use crate::model::Annotation;

/// C3D files are made of 512-byte blocks; pointers count blocks from 1.
const BLOCK_BYTES: usize = 512;
/// Byte 2 of a C3D file.
const KEY: u8 = 0x50;
/// `POINT:FRAMES` saturates here when a trial has more frames.
const FRAMES_SATURATED: usize = 65_535;

/// True when the first bytes are a C3D file's: byte 2 is the C3D key 0x50, byte 1 points
/// past the header to the parameter section, and `head` reaches that section's processor
/// type, which must be one C3D defines.
pub fn is_c3d(head: &[u8]) -> bool {
    let (Some(&block), Some(&KEY)) = (head.first(), head.get(1)) else {
        return false;
    };
    let processor_at = (usize::from(block).saturating_sub(1)) * BLOCK_BYTES + 3;
    block >= 2
        && head
            .get(processor_at)
            .is_some_and(|&b| Processor::of(b).is_some())
}

/// The number formats of the file, from the parameter section's byte 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Processor {
    Intel,
    Dec,
    Mips,
}

impl Processor {
    fn of(byte: u8) -> Option<Processor> {
        match byte {
            84 => Some(Processor::Intel),
            85 => Some(Processor::Dec),
            86 => Some(Processor::Mips),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Processor::Intel => "Intel",
            Processor::Dec => "DEC",
            Processor::Mips => "MIPS",
        }
    }

    fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Processor::Mips => u16::from_be_bytes(b),
            _ => u16::from_le_bytes(b),
        }
    }

    fn i16(self, b: [u8; 2]) -> i16 {
        match self {
            Processor::Mips => i16::from_be_bytes(b),
            _ => i16::from_le_bytes(b),
        }
    }

    fn f32(self, b: [u8; 4]) -> f32 {
        match self {
            Processor::Intel => f32::from_le_bytes(b),
            Processor::Mips => f32::from_be_bytes(b),
            // VAX F: 16-bit words high word first, exponent bias 128 and mantissa 0.1f, so
            // the IEEE reading of the swapped words is 4 times the value.
            Processor::Dec => f32::from_le_bytes([b[2], b[3], b[0], b[1]]) / 4.0,
        }
    }
}

/// `N` bytes at `at`, if the slice holds them.
fn take<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// One parameter as stored: type -1 (char), 1 (byte), 2 (int16) or 4 (float).
#[derive(Debug)]
struct Parameter {
    group: String,
    name: String,
    kind: i8,
    dims: Vec<usize>,
    data: Vec<u8>,
}

/// The parameter section.
struct Parameters {
    processor: Processor,
    list: Vec<Parameter>,
}

impl Parameters {
    fn get(&self, group: &str, name: &str) -> Option<&Parameter> {
        self.list
            .iter()
            .find(|p| p.group == group && p.name == name)
    }

    /// Numbers of a numeric parameter; int16 read as unsigned when `unsigned` (C3D counts).
    fn numbers(&self, group: &str, name: &str, unsigned: bool) -> Option<Vec<f64>> {
        let p = self.get(group, name)?;
        let pr = self.processor;
        Some(match p.kind {
            1 => p.data.iter().map(|&b| f64::from(b)).collect(),
            2 => p
                .data
                .chunks_exact(2)
                .map(|c| {
                    let b = [c[0], c[1]];
                    if unsigned {
                        f64::from(pr.u16(b))
                    } else {
                        f64::from(pr.i16(b))
                    }
                })
                .collect(),
            4 => p
                .data
                .chunks_exact(4)
                .map(|c| f64::from(pr.f32([c[0], c[1], c[2], c[3]])))
                .collect(),
            _ => return None,
        })
    }

    /// The first number of a numeric parameter.
    fn number(&self, group: &str, name: &str, unsigned: bool) -> Option<f64> {
        self.numbers(group, name, unsigned)?.first().copied()
    }

    /// Strings of a char parameter: its first dimension is the length of each.
    fn strings(&self, group: &str, name: &str) -> Option<Vec<String>> {
        let p = self.get(group, name).filter(|p| p.kind == -1)?;
        let width = p.dims.first().copied().unwrap_or(1).max(1);
        Some(p.data.chunks(width).map(text).collect())
    }

    /// `NAME`, `NAME2`, `NAME3`, … of `group` concatenated: C3D continues arrays past 255
    /// entries so.
    fn continued<T>(
        &self,
        group: &str,
        name: &str,
        get: impl Fn(&Self, &str, &str) -> Option<Vec<T>>,
    ) -> Option<Vec<T>> {
        let mut all = get(self, group, name)?;
        for n in 2.. {
            match get(self, group, &format!("{name}{n}")) {
                Some(more) => all.extend(more),
                None => break,
            }
        }
        Some(all)
    }
}

/// Latin-1 text, trimmed of spaces and NULs.
fn text(bytes: &[u8]) -> String {
    let s: String = bytes.iter().map(|&b| char::from(b)).collect();
    s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string()
}

/// Reads the analog channels and events of a C3D file.
///
/// # Errors
/// A header, parameter or data section that breaks the format or disagrees with the file's
/// size, named by byte, parameter or frame.
pub fn read(path: &Path) -> Result<RawRecording, IngestError> {
    let err = |place: &str, expected: String, found: String| {
        IngestError::format(path, place, expected, found)
    };
    let mut file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| IngestError::io(path, e))?.len();
    if file_len < BLOCK_BYTES as u64 {
        return Err(err(
            "header block",
            format!("{BLOCK_BYTES} bytes"),
            format!("a {file_len}-byte file"),
        ));
    }
    let mut header = [0u8; BLOCK_BYTES];
    file.read_exact(&mut header)
        .map_err(|e| IngestError::io(path, e))?;
    if header[1] != KEY {
        return Err(err(
            "byte 2",
            "0x50, the C3D key".into(),
            format!("{:#04x}", header[1]),
        ));
    }
    let n_blocks = file_len / BLOCK_BYTES as u64;
    let param_block = u64::from(header[0]);
    if param_block < 2 || param_block > n_blocks {
        return Err(err(
            "byte 1 (parameter section block)",
            format!("a block from 2 to {n_blocks} of this {file_len}-byte file"),
            param_block.to_string(),
        ));
    }
    let param_at = (param_block - 1) * BLOCK_BYTES as u64;
    let mut head = [0u8; 4];
    file.seek(SeekFrom::Start(param_at))
        .and_then(|_| file.read_exact(&mut head))
        .map_err(|e| IngestError::io(path, e))?;
    let processor = Processor::of(head[3]).ok_or_else(|| {
        err(
            "parameter section byte 4 (processor type)",
            "84 (Intel), 85 (DEC) or 86 (MIPS)".into(),
            head[3].to_string(),
        )
    })?;
    let section_len = usize::from(head[2].max(1)) * BLOCK_BYTES;
    let available = usize::try_from(file_len - param_at).unwrap_or(usize::MAX);
    let mut section = vec![0u8; section_len.min(available)];
    file.seek(SeekFrom::Start(param_at))
        .and_then(|_| file.read_exact(&mut section))
        .map_err(|e| IngestError::io(path, e))?;
    let params = Parameters {
        processor,
        list: parse_parameters(path, &section, processor)?,
    };

    let word = |i: usize| processor.u16([header[2 * i - 2], header[2 * i - 1]]);
    let float_at = |i: usize| {
        processor.f32([
            header[2 * i - 2],
            header[2 * i - 1],
            header[2 * i],
            header[2 * i + 1],
        ])
    };
    let point_scale = params
        .number("POINT", "SCALE", false)
        .unwrap_or(f64::from(float_at(7)));
    let float_storage = point_scale < 0.0;
    let n_points = match params.number("POINT", "USED", true) {
        None => usize::from(word(2)),
        Some(n) => count(n).ok_or_else(|| {
            err(
                "parameter POINT:USED",
                "a point count from 0 to 65535".into(),
                n.to_string(),
            )
        })?,
    };
    let analog_words = usize::from(word(3));
    let n_analog = if analog_words == 0 {
        0
    } else {
        params
            .number("ANALOG", "USED", true)
            .and_then(count)
            .filter(|&n| n > 0 && analog_words % n == 0)
            .ok_or_else(|| {
                err(
                    "parameter ANALOG:USED",
                    format!(
                        "a channel count dividing header word 3 ({analog_words} analog \
                         samples per frame)"
                    ),
                    number_text(params.number("ANALOG", "USED", true)),
                )
            })?
    };
    let per_frame = analog_words.checked_div(n_analog).unwrap_or(0);
    let analog_rate_hz = if n_analog == 0 {
        0.0
    } else {
        params
            .number("ANALOG", "RATE", false)
            .filter(|r| r.is_finite() && *r > 0.0)
            .ok_or_else(|| {
                err(
                    "parameter ANALOG:RATE",
                    "the analog sampling rate in Hz, above 0".into(),
                    number_text(params.number("ANALOG", "RATE", false)),
                )
            })?
    };

    let n_frames = frame_count(&params, word(4), word(5));
    let word_bytes = if float_storage { 4 } else { 2 };
    let frame_bytes = (n_points * 4 + analog_words) * word_bytes;
    let data_at = (u64::from(word(9)).max(1) - 1) * BLOCK_BYTES as u64;
    let needed = (n_frames as u64).checked_mul(frame_bytes as u64);
    if data_at < param_at + section.len() as u64
        || needed.is_none_or(|n| data_at.saturating_add(n) > file_len)
    {
        return Err(err(
            "header word 9 (data section block)",
            format!(
                "{n_frames} frames of {frame_bytes} bytes after the parameter section, \
                 within the file"
            ),
            format!(
                "block {} of a {file_len}-byte file ({} bytes from there)",
                word(9),
                file_len.saturating_sub(data_at)
            ),
        ));
    }

    let unsigned = params.strings("ANALOG", "FORMAT").is_some_and(|f| {
        f.first()
            .is_some_and(|f| f.eq_ignore_ascii_case("UNSIGNED"))
    });
    let scaling = Scaling::of(&params, n_analog, unsigned, float_storage)
        .map_err(|(place, expected, found)| err(&place, expected, found))?;

    file.seek(SeekFrom::Start(data_at))
        .map_err(|e| IngestError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let n_samples = n_frames * per_frame;
    let mut samples: Vec<Vec<f64>> = (0..n_analog).map(|_| vec![0.0; n_samples]).collect();
    let mut frame = vec![0u8; frame_bytes];
    let analog_at = n_points * 4 * word_bytes;
    // Without analog channels there is nothing to read (and a frame may be 0 bytes).
    let n_read = if n_analog > 0 { n_frames } else { 0 };
    for f in 0..n_read {
        reader
            .read_exact(&mut frame)
            .map_err(|e| IngestError::io(path, e))?;
        for (k, w) in frame[analog_at..].chunks_exact(word_bytes).enumerate() {
            let raw = match (float_storage, unsigned) {
                (true, _) => f64::from(processor.f32([w[0], w[1], w[2], w[3]])),
                (false, true) => f64::from(processor.u16([w[0], w[1]])),
                (false, false) => f64::from(processor.i16([w[0], w[1]])),
            };
            let (s, c) = (k / n_analog, k % n_analog);
            samples[c][f * per_frame + s] = scaling.apply(c, raw);
        }
    }

    let labels = unique_labels(
        params
            .continued("ANALOG", "LABELS", Parameters::strings)
            .unwrap_or_default(),
        n_analog,
    );
    let units = params
        .continued("ANALOG", "UNITS", Parameters::strings)
        .unwrap_or_default();
    let channels = samples
        .into_iter()
        .enumerate()
        .zip(labels)
        .map(|((c, samples), name)| RawChannel {
            name,
            unit: units.get(c).filter(|u| !u.is_empty()).cloned(),
            fs_hz: analog_rate_hz,
            samples: Array1::from(samples),
            physical_range: scaling.range(c),
        })
        .collect();
    let first_frame = trial_field(&params, "ACTUAL_START_FIELD").unwrap_or(u64::from(word(4)));
    let point_rate_hz = params
        .number("POINT", "RATE", false)
        .unwrap_or(f64::from(float_at(11)));
    let annotations = events(&params, first_frame, point_rate_hz)
        .map_err(|(place, expected, found)| err(&place, expected, found))?;
    Ok(RawRecording {
        channels,
        annotations,
        format: format_name(&params, float_storage),
        ..RawRecording::default()
    })
}

/// The spec's frame count: `POINT:FRAMES`, unless saturated at 65535, when
/// `POINT:LONG_FRAMES` or the `TRIAL` fields hold it; without `POINT:FRAMES`, the header's
/// first and last frame.
fn frame_count(params: &Parameters, first: u16, last: u16) -> usize {
    let long = || {
        params
            .number("POINT", "LONG_FRAMES", false)
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(|n| n as usize)
            .or_else(|| {
                let start = trial_field(params, "ACTUAL_START_FIELD")?;
                let end = trial_field(params, "ACTUAL_END_FIELD")?;
                usize::try_from((end.checked_add(1)?).checked_sub(start)?).ok()
            })
    };
    match params.number("POINT", "FRAMES", true) {
        Some(n) if n as usize == FRAMES_SATURATED => long().unwrap_or(FRAMES_SATURATED),
        Some(n) if n.is_finite() && n >= 0.0 => n as usize,
        _ => usize::from(last.saturating_sub(first)) + 1,
    }
}

/// A C3D count (16-bit, possibly stored as a float), if it is one.
fn count(n: f64) -> Option<usize> {
    (n.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&n)).then_some(n as usize)
}

/// A `TRIAL` frame number: two unsigned 16-bit words, low first.
fn trial_field(params: &Parameters, name: &str) -> Option<u64> {
    match params.numbers("TRIAL", name, true)?.as_slice() {
        [lo, hi, ..] => Some(count(*lo)? as u64 + ((count(*hi)? as u64) << 16)),
        _ => None,
    }
}

/// Per-channel `(raw - offset) * scale * gen_scale`, and the range integer storage holds.
struct Scaling {
    offset: Vec<f64>,
    gain: Vec<f64>,
    raw_range: Option<[f64; 2]>,
}

/// A format error as (place, expected, found), for [`read`] to name the file.
type Problem = (String, String, String);

impl Scaling {
    fn of(
        params: &Parameters,
        n: usize,
        unsigned: bool,
        float_storage: bool,
    ) -> Result<Scaling, Problem> {
        let per_channel = |name: &str, unsigned: bool| {
            let values =
                params.continued("ANALOG", name, |p, g, name| p.numbers(g, name, unsigned));
            match values {
                Some(v) if v.len() >= n => Ok(v),
                other => Err((
                    format!("parameter ANALOG:{name}"),
                    format!("a number for each of the {n} analog channels"),
                    match other {
                        Some(v) => format!("{} numbers", v.len()),
                        None => "no such numeric parameter".to_string(),
                    },
                )),
            }
        };
        let gen_scale = params.number("ANALOG", "GEN_SCALE", false).ok_or_else(|| {
            (
                "parameter ANALOG:GEN_SCALE".to_string(),
                "the general analog scale".to_string(),
                "no such numeric parameter".to_string(),
            )
        })?;
        let scale = per_channel("SCALE", false)?;
        Ok(Scaling {
            offset: per_channel("OFFSET", unsigned)?,
            gain: scale.iter().map(|s| s * gen_scale).collect(),
            raw_range: match (float_storage, unsigned) {
                (true, _) => None,
                (false, true) => Some([0.0, f64::from(u16::MAX)]),
                (false, false) => Some([f64::from(i16::MIN), f64::from(i16::MAX)]),
            },
        })
    }

    fn apply(&self, c: usize, raw: f64) -> f64 {
        (raw - self.offset[c]) * self.gain[c]
    }

    fn range(&self, c: usize) -> Option<[f64; 2]> {
        let [lo, hi] = self.raw_range?.map(|r| self.apply(c, r));
        Some([lo.min(hi), lo.max(hi)])
    }
}

/// `n` channel names: the labels trimmed, an empty or missing one `Analog <n>`, a repeat
/// suffixed ` (2)`, ` (3)`, … so every name is unique (palpa keys channels by name).
fn unique_labels(labels: Vec<String>, n: usize) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(n);
    let mut taken = std::collections::HashSet::with_capacity(n);
    for c in 0..n {
        let base = labels
            .get(c)
            .filter(|l| !l.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("Analog {}", c + 1));
        let mut name = base.clone();
        let mut k = 2;
        while taken.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

/// `EVENT:USED` events, onsets in seconds from the first stored frame; the text is the
/// context and label (`Left Foot Strike`), as motion-lab software shows them.
fn events(
    params: &Parameters,
    first_frame: u64,
    point_rate_hz: f64,
) -> Result<Vec<Annotation>, Problem> {
    let used = match params.number("EVENT", "USED", true) {
        None => 0,
        Some(n) => count(n).ok_or_else(|| {
            (
                "parameter EVENT:USED".to_string(),
                "an event count from 0 to 65535".to_string(),
                n.to_string(),
            )
        })?,
    };
    if used == 0 {
        return Ok(Vec::new());
    }
    let times = params.numbers("EVENT", "TIMES", false).unwrap_or_default();
    if times.len() < 2 * used {
        return Err((
            "parameter EVENT:TIMES".into(),
            format!("(minutes, seconds) for each of the {used} events of EVENT:USED"),
            format!("{} numbers", times.len()),
        ));
    }
    let labels = params.strings("EVENT", "LABELS").unwrap_or_default();
    let contexts = params.strings("EVENT", "CONTEXTS").unwrap_or_default();
    let start_s = if first_frame > 1 {
        if !(point_rate_hz.is_finite() && point_rate_hz > 0.0) {
            return Err((
                "parameter POINT:RATE".into(),
                "the frame rate in Hz, above 0 (events are timed from frame 1)".into(),
                point_rate_hz.to_string(),
            ));
        }
        (first_frame - 1) as f64 / point_rate_hz
    } else {
        0.0
    };
    Ok((0..used)
        .map(|e| {
            let label = labels.get(e).map_or("", String::as_str);
            let context = contexts.get(e).map_or("", String::as_str);
            Annotation {
                onset_s: times[2 * e] * 60.0 + times[2 * e + 1] - start_s,
                duration_s: None,
                text: format!("{context} {label}").trim().to_string(),
                muscle: None,
                side: None,
                site: None,
            }
        })
        .collect())
}

/// `C3D (Intel, float; Vicon Nexus 2.4.0.91647h)`: processor, storage, and the writing
/// software when `MANUFACTURER` names it.
fn format_name(params: &Parameters, float_storage: bool) -> String {
    let storage = if float_storage { "float" } else { "integer" };
    let one = |name: &str| {
        params
            .strings("MANUFACTURER", name)
            .map(|s| s.join(" ").trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let software: Vec<String> = [
        one("SOFTWARE").or_else(|| one("COMPANY")),
        one("VERSION_LABEL"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut name = format!("C3D ({}, {storage}", params.processor.name());
    if !software.is_empty() {
        name.push_str("; ");
        name.push_str(&software.join(" "));
    }
    name.push(')');
    name
}

fn number_text(n: Option<f64>) -> String {
    n.map_or("no such numeric parameter".to_string(), |n| n.to_string())
}

/// Groups and parameters of the parameter section (after its 4-byte header).
fn parse_parameters(
    path: &Path,
    section: &[u8],
    processor: Processor,
) -> Result<Vec<Parameter>, IngestError> {
    let mut groups: Vec<(u8, String)> = Vec::new();
    let mut found: Vec<(u8, Parameter)> = Vec::new();
    let mut at = 4;
    while let Some([len, id]) = take::<2>(section, at) {
        let name_len = usize::from((len as i8).unsigned_abs());
        if name_len == 0 {
            break;
        }
        let place = || format!("parameter section byte {}", at + 1);
        let broken = |what: &str| {
            IngestError::format(
                path,
                place(),
                "a group or parameter within the parameter section",
                what,
            )
        };
        let name_at = at + 2;
        let next_at = name_at + name_len;
        let name = text(
            section
                .get(name_at..next_at)
                .ok_or_else(|| broken("a name running past its end"))?,
        )
        .to_ascii_uppercase();
        let offset = processor
            .i16(take::<2>(section, next_at).ok_or_else(|| broken("a name running past its end"))?);
        let id = id as i8;
        let body = next_at + 2;
        if id < 0 {
            groups.push((id.unsigned_abs(), name));
        } else if id > 0 {
            let [kind, n_dims] =
                take::<2>(section, body).ok_or_else(|| broken("a parameter cut short"))?;
            let kind = kind as i8;
            let dims: Vec<usize> = section
                .get(body + 2..body + 2 + usize::from(n_dims))
                .ok_or_else(|| broken("dimensions running past its end"))?
                .iter()
                .map(|&d| usize::from(d))
                .collect();
            let item: usize = match kind {
                -1 | 1 => 1,
                2 => 2,
                4 => 4,
                _ => {
                    return Err(IngestError::format(
                        path,
                        format!("parameter {name} ({})", place()),
                        "type -1 (char), 1 (byte), 2 (integer) or 4 (float)",
                        kind.to_string(),
                    ))
                }
            };
            let data_at = body + 2 + dims.len();
            let size = dims.iter().try_fold(item, |n, &d| n.checked_mul(d));
            let data = size
                .and_then(|size| section.get(data_at..data_at.checked_add(size)?))
                .ok_or_else(|| broken(&format!("parameter {name}'s data running past its end")))?
                .to_vec();
            found.push((
                id.unsigned_abs(),
                Parameter {
                    group: String::new(),
                    name,
                    kind,
                    dims,
                    data,
                },
            ));
        }
        match offset {
            0 => break,
            o if o < 0 => return Err(broken(&format!("an offset of {o} to the next"))),
            o => at = next_at + o as usize,
        }
    }
    Ok(found
        .into_iter()
        .filter_map(|(gid, mut p)| {
            let (_, group) = groups.iter().find(|(g, _)| *g == gid)?;
            p.group.clone_from(group);
            Some(p)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the tiny test file holds.
    struct Tiny {
        processor: Processor,
        float: bool,
        /// Header first frame; events count from frame 1.
        first_frame: u16,
    }

    const N_FRAMES: usize = 3;
    const PER_FRAME: usize = 2;
    const OFFSET: [i16; 2] = [5, -3];
    const SCALE: [f32; 2] = [0.5, 2.0];
    const GEN_SCALE: f32 = 0.25;

    /// Raw analog value of channel `c` at sample `n`.
    fn raw(c: usize, n: usize) -> i16 {
        (n as i16) * 10 - 7 + c as i16 * 100
    }

    fn u16_bytes(p: Processor, v: u16) -> Vec<u8> {
        match p {
            Processor::Mips => v.to_be_bytes().to_vec(),
            _ => v.to_le_bytes().to_vec(),
        }
    }

    fn f32_bytes(p: Processor, v: f32) -> Vec<u8> {
        match p {
            Processor::Intel => v.to_le_bytes().to_vec(),
            Processor::Mips => v.to_be_bytes().to_vec(),
            Processor::Dec => {
                let b = (v * 4.0).to_le_bytes();
                vec![b[2], b[3], b[0], b[1]]
            }
        }
    }

    fn chars(width: usize, items: &[&str]) -> Vec<u8> {
        items
            .iter()
            .flat_map(|s| {
                let mut b = s.as_bytes().to_vec();
                b.resize(width, b' ');
                b
            })
            .collect()
    }

    /// A parameter record: name, group id, offset to the next, type, dimensions, data, and
    /// an empty description.
    fn param(p: Processor, group: i8, name: &str, kind: i8, dims: &[u8], data: Vec<u8>) -> Vec<u8> {
        let mut out = vec![name.len() as u8, group as u8];
        out.extend(name.as_bytes());
        let offset = 2 + 2 + dims.len() + data.len() + 1;
        out.extend(u16_bytes(p, offset as u16));
        out.extend([kind as u8, dims.len() as u8]);
        out.extend(dims);
        out.extend(data);
        out.push(0);
        out
    }

    fn group(p: Processor, id: i8, name: &str) -> Vec<u8> {
        let mut out = vec![name.len() as u8, (-id) as u8];
        out.extend(name.as_bytes());
        out.extend(u16_bytes(p, 3));
        out.push(0);
        out
    }

    /// A C3D with 1 point (not a channel), two analog channels labelled `EMG` twice, 2
    /// analog samples per frame at 200 Hz, 3 frames at 100 Hz, and one event `General Snap`
    /// at 0.125 s.
    fn tiny(t: &Tiny) -> Vec<u8> {
        let p = t.processor;
        let n_points = 1u16;
        let mut file = vec![0u8; BLOCK_BYTES];
        file[0] = 2;
        file[1] = KEY;
        let point_scale: f32 = if t.float { -0.1 } else { 0.1 };
        let mut words: Vec<u8> = Vec::new();
        for w in [n_points, (2 * PER_FRAME) as u16, t.first_frame] {
            words.extend(u16_bytes(p, w));
        }
        words.extend(u16_bytes(p, t.first_frame + N_FRAMES as u16 - 1));
        words.extend(u16_bytes(p, 0));
        words.extend(f32_bytes(p, point_scale));
        words.extend(u16_bytes(p, 4)); // data start block
        words.extend(u16_bytes(p, PER_FRAME as u16));
        words.extend(f32_bytes(p, 100.0));
        file[2..2 + words.len()].copy_from_slice(&words);

        let f = |v: f32| f32_bytes(p, v);
        let i = |v: i16| u16_bytes(p, v as u16);
        let mut params = vec![1, KEY, 2, 83 + p as u8 + 1];
        params.extend(group(p, 1, "POINT"));
        params.extend(param(p, 1, "USED", 2, &[], i(n_points as i16)));
        params.extend(param(p, 1, "SCALE", 4, &[], f(point_scale)));
        params.extend(param(p, 1, "RATE", 4, &[], f(100.0)));
        params.extend(param(p, 1, "FRAMES", 2, &[], i(N_FRAMES as i16)));
        params.extend(group(p, 2, "ANALOG"));
        params.extend(param(p, 2, "USED", 2, &[], i(2)));
        params.extend(param(p, 2, "RATE", 4, &[], f(200.0)));
        params.extend(param(p, 2, "GEN_SCALE", 4, &[], f(GEN_SCALE)));
        params.extend(param(
            p,
            2,
            "SCALE",
            4,
            &[2],
            SCALE.iter().flat_map(|&s| f(s)).collect(),
        ));
        params.extend(param(
            p,
            2,
            "OFFSET",
            2,
            &[2],
            OFFSET.iter().flat_map(|&o| i(o)).collect(),
        ));
        params.extend(param(
            p,
            2,
            "LABELS",
            -1,
            &[4, 2],
            chars(4, &[" EMG", "EMG"]),
        ));
        params.extend(param(p, 2, "UNITS", -1, &[2, 2], chars(2, &["mV", ""])));
        params.extend(group(p, 3, "EVENT"));
        params.extend(param(p, 3, "USED", 2, &[], i(1)));
        params.extend(param(
            p,
            3,
            "TIMES",
            4,
            &[2, 1],
            [f(0.0), f(0.125)].concat(),
        ));
        params.extend(param(p, 3, "LABELS", -1, &[8, 1], chars(8, &["Snap"])));
        params.extend(param(p, 3, "CONTEXTS", -1, &[8, 1], chars(8, &["General"])));
        params.extend(group(p, 4, "MANUFACTURER"));
        params.extend(param(
            p,
            4,
            "SOFTWARE",
            -1,
            &[10],
            chars(10, &["palpa test"]),
        ));
        params.resize(2 * BLOCK_BYTES, 0);
        file.extend(params);

        for frame in 0..N_FRAMES {
            let word = |v: i16| if t.float { f(f32::from(v)) } else { i(v) };
            file.extend((0..4).flat_map(|_| word(1234)));
            for s in 0..PER_FRAME {
                for c in 0..2 {
                    file.extend(word(raw(c, frame * PER_FRAME + s)));
                }
            }
        }
        file
    }

    fn write(dir: &Path, t: &Tiny) -> std::path::PathBuf {
        let path = dir.join("tiny.c3d");
        std::fs::write(&path, tiny(t)).unwrap();
        path
    }

    fn expected(c: usize, n: usize) -> f64 {
        (f64::from(raw(c, n)) - f64::from(OFFSET[c])) * f64::from(SCALE[c]) * f64::from(GEN_SCALE)
    }

    fn check(rec: &RawRecording, t: &Tiny) {
        let names: Vec<&str> = rec.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["EMG", "EMG (2)"], "trimmed, then made unique");
        assert_eq!(rec.channels[0].unit.as_deref(), Some("mV"));
        assert_eq!(rec.channels[1].unit, None, "an empty unit is no unit");
        for (c, ch) in rec.channels.iter().enumerate() {
            assert_eq!(ch.fs_hz, 200.0);
            assert_eq!(ch.samples.len(), N_FRAMES * PER_FRAME);
            for (n, &x) in ch.samples.iter().enumerate() {
                assert!(
                    (x - expected(c, n)).abs() < 1e-12,
                    "channel {c} sample {n}: {x}"
                );
            }
        }
        let a = &rec.annotations[..];
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].text, "General Snap");
        let start_s = f64::from(t.first_frame - 1) / 100.0;
        assert!(
            (a[0].onset_s - (0.125 - start_s)).abs() < 1e-9,
            "{}",
            a[0].onset_s
        );
    }

    #[test]
    fn intel_integer_storage_is_scaled_with_its_offset_and_range() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tiny {
            processor: Processor::Intel,
            float: false,
            first_frame: 1,
        };
        let rec = read(&write(dir.path(), &t)).unwrap();
        check(&rec, &t);
        assert_eq!(rec.format, "C3D (Intel, integer; palpa test)");
        let range = rec.channels[1].physical_range.unwrap();
        let gain = 2.0 * 0.25;
        assert_eq!(range, [(-32768.0 + 3.0) * gain, (32767.0 + 3.0) * gain]);
    }

    #[test]
    fn float_storage_of_each_processor_reads_alike() {
        let dir = tempfile::tempdir().unwrap();
        for (processor, name) in [
            (Processor::Intel, "Intel"),
            (Processor::Dec, "DEC"),
            (Processor::Mips, "MIPS"),
        ] {
            let t = Tiny {
                processor,
                float: true,
                first_frame: 11,
            };
            let rec = read(&write(dir.path(), &t)).unwrap();
            check(&rec, &t);
            assert_eq!(rec.format, format!("C3D ({name}, float; palpa test)"));
            assert!(rec.channels.iter().all(|c| c.physical_range.is_none()));
        }
    }

    #[test]
    fn counts_are_16_bit_whole_numbers() {
        assert_eq!(count(38.0), Some(38));
        assert_eq!(count(65_535.0), Some(65_535));
        for bad in [-1.0, 0.5, 65_536.0, 1e30, f64::NAN, f64::INFINITY] {
            assert_eq!(count(bad), None, "{bad}");
        }
    }

    #[test]
    fn dec_float_converts_to_ieee() {
        for v in [1.0f32, -0.125, 2000.0, 3.0e-5] {
            let b = f32_bytes(Processor::Dec, v);
            assert_eq!(Processor::Dec.f32([b[0], b[1], b[2], b[3]]), v);
        }
        // 1.0 as VAX F: exponent 129, mantissa 0.1 (binary); words 0x4080, 0x0000.
        assert_eq!(Processor::Dec.f32([0x80, 0x40, 0, 0]), 1.0);
    }

    #[test]
    fn content_is_recognised_from_the_first_bytes() {
        let file = tiny(&Tiny {
            processor: Processor::Intel,
            float: true,
            first_frame: 1,
        });
        assert!(!is_c3d(&file[..2]), "the processor type not reached");
        assert!(is_c3d(&file[..BLOCK_BYTES + 4]));
        let mut other = file.clone();
        other[BLOCK_BYTES + 3] = 0;
        assert!(!is_c3d(&other), "no processor type");
        other = file.clone();
        other[0] = 1;
        assert!(!is_c3d(&other), "parameters inside the header");
        assert!(!is_c3d(b"0       X X X X"), "EDF");
        assert!(!is_c3d(&[]));
    }

    fn error_of(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.c3d");
        std::fs::write(&path, bytes).unwrap();
        match read(&path) {
            Ok(_) => panic!("a broken file was read"),
            Err(e) => e.to_string(),
        }
    }

    fn intel_float() -> Vec<u8> {
        tiny(&Tiny {
            processor: Processor::Intel,
            float: true,
            first_frame: 1,
        })
    }

    #[test]
    fn an_unknown_processor_is_named() {
        let mut file = intel_float();
        file[BLOCK_BYTES + 3] = 90;
        let e = error_of(&file);
        assert!(
            e.contains("processor type") && e.contains("found 90"),
            "{e}"
        );
    }

    #[test]
    fn a_scale_array_shorter_than_the_channels_is_an_error() {
        let mut file = intel_float();
        let at = file.windows(7).position(|w| w == b"\x05\x02SCALE").unwrap();
        // Dimension 2 → 1: the parameter now holds one scale for two channels.
        file[at + 7 + 2 + 2] = 1;
        let e = error_of(&file);
        assert!(e.contains("ANALOG:SCALE") && e.contains("1 numbers"), "{e}");
    }

    #[test]
    fn a_data_section_short_of_its_frames_is_an_error() {
        let file = intel_float();
        let e = error_of(&file[..file.len() - 1]);
        assert!(e.contains("header word 9") && e.contains("3 frames"), "{e}");
    }

    /// Every byte of the header and parameter section set to a handful of values: the
    /// reader returns, never panics.
    #[test]
    fn no_header_or_parameter_byte_makes_the_reader_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mutant.c3d");
        for float in [false, true] {
            let original = tiny(&Tiny {
                processor: Processor::Intel,
                float,
                first_frame: 1,
            });
            for at in (0..24).chain(BLOCK_BYTES..BLOCK_BYTES + 400) {
                for value in [0x00, 0x02, 0x80, 0xFF] {
                    let mut bytes = original.clone();
                    bytes[at] = value;
                    std::fs::write(&path, &bytes).unwrap();
                    let _ = read(&path);
                }
            }
        }
    }
}
