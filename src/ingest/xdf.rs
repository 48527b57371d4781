//! XDF 1.0 recordings of Lab Streaming Layer (DESIGN §2.2): an algometer and an EMG
//! amplifier as separate streams, each at its own rate and clock, aligned on their
//! timestamps after clock offsets.
//!
//! **File.** `XDF:`, then chunks: a byte giving the width (1, 4 or 8) of the little-endian
//! length that follows, the length (it counts the 2-byte tag and the content), the tag —
//! FileHeader 1, StreamHeader 2, Samples 3, ClockOffset 4, Boundary 5, StreamFooter 6 —
//! and the content. File header, boundaries, footers and unknown tags are skipped. A stream
//! header's XML gives `name`, `channel_count`, `nominal_srate`, `channel_format` and
//! `desc/channels/channel/{label,unit}`. A sample's timestamp may be left out: it is then
//! the stream's previous one plus 1/`nominal_srate` (0 for an irregular stream), as pyxdf.
//!
//! **Clocks.** A stream's ClockOffset chunks measure, at a time on the stream's clock, what
//! to add to reach the recorder's clock. Each timestamp gets the offset interpolated
//! linearly between the measurements around it, held at the first or last outside them;
//! one measurement is a constant, none is zero. (pyxdf's `synchronize_clocks` fits one
//! robust line through all of a stream's measurements instead; the two differ by the
//! measurements' jitter.) A measurement earlier than the one before is a clock reset, which
//! palpa does not split streams at: an error naming the stream.
//!
//! **Alignment.** A [`RawChannel`] has one rate and no start of its own, so every channel
//! starts at one instant, time zero: the latest corrected first timestamp of the regular
//! numeric streams. Each of them drops its samples stamped before zero minus half its
//! period, so its first sample lies within half a period of zero (5 ms for a 100 Hz
//! algometer, 0.25 ms for 2000 Hz EMG), plus the timestamps' own jitter.
//!
//! **Rate.** A regular stream's rate is its `nominal_srate`; its timestamps show the rate
//! its device really kept (a crystal off by 20 ppm gains 1.2 ms a minute; a lost packet
//! shifts every later sample). Where the two disagree, at the stream's last sample, by more
//! than `qc.xdf_drift_max_ms`, the file is refused with both rates named: palpa does not
//! resample, and a stream that drifts would put force and EMG out of step in silence.
//!
//! **Streams.** `string` streams are markers, whatever their rate: each sample becomes an
//! [`Annotation`] at its corrected time from zero (negative before it), its text the
//! sample's strings joined by `; `. Numeric streams with `nominal_srate` 0 and streams
//! without samples are skipped and named in `format`. A channel is named by its label, as
//! `<stream> <label>` when another stream has that label too, as `<stream> <n>` when it has
//! none. The prefix takes part in typing a channel by its name: a stream called `EMG` makes
//! its shared `Status` an EMG channel, which then needs a volt unit (or a channels TSV row).
//! Chunks are read one at a time, none longer than what is left of the file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use ndarray::Array1;

use super::{IngestError, RawChannel, RawRecording};
use crate::model::Annotation;

/// The first bytes of every XDF file.
const MAGIC: &[u8] = b"XDF:";

/// True when `head`, the first bytes of a file, are XDF's magic.
pub fn is_xdf(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Reads an XDF file: regular numeric streams as channels on a common time zero, string
/// streams as annotations.
///
/// # Errors
/// A chunk that is truncated or malformed (chunk number, tag and byte named), a stream
/// header whose XML lacks a field or gives a bad value, samples or clock offsets of a stream
/// no header declared, a clock reset, a stream whose timestamps drift from its nominal rate
/// by more than `drift_max_ms`, a stream that ends before another begins.
pub fn read(path: &Path, drift_max_ms: f64) -> Result<RawRecording, IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let size = file.metadata().map_err(|e| IngestError::io(path, e))?.len();
    let mut chunks = Chunks {
        reader: BufReader::new(file),
        path,
        at: 0,
        size,
        number: 0,
    };
    let mut magic = [0u8; 4];
    chunks.fill(&mut magic, || "file start".into(), "the magic `XDF:`")?;
    if !is_xdf(&magic) {
        return Err(IngestError::format(
            path,
            "file start",
            "the magic `XDF:`",
            format!("{:?}", String::from_utf8_lossy(&magic)),
        ));
    }
    let mut streams: Vec<Stream> = Vec::new();
    while let Some(chunk) = chunks.next()? {
        if !matches!(chunk.tag, STREAM_HEADER | SAMPLES | CLOCK_OFFSET) {
            continue;
        }
        let place = chunk.place();
        let id = u32::from_le_bytes(
            Body {
                bytes: &chunk.content,
                pos: 0,
                path,
                place: &place,
            }
            .array("stream id")?,
        );
        let place = format!("{place}, stream {id}");
        let mut body = Body {
            bytes: &chunk.content,
            pos: 4,
            path,
            place: &place,
        };
        let declared = streams.iter().position(|s| s.id == id);
        match (chunk.tag, declared) {
            (STREAM_HEADER, None) => {
                streams.push(Stream::from_header(path, &place, id, body.rest())?)
            }
            (STREAM_HEADER, Some(_)) => {
                return Err(IngestError::format(
                    path,
                    place,
                    format!("one StreamHeader for stream {id}"),
                    "a second one",
                ))
            }
            (_, Some(i)) if chunk.tag == SAMPLES => streams[i].read_samples(&mut body)?,
            (_, Some(i)) => streams[i].read_offset(&mut body)?,
            (_, None) => {
                return Err(IngestError::format(
                    path,
                    place,
                    "a stream declared by an earlier StreamHeader chunk",
                    format!(
                        "stream {id}, which none declares (declared: {})",
                        if streams.is_empty() {
                            "none".to_string()
                        } else {
                            super::error::listing(streams.iter().map(|s| s.id))
                        }
                    ),
                ))
            }
        }
    }
    assemble(path, streams, drift_max_ms)
}

const STREAM_HEADER: u16 = 2;
const SAMPLES: u16 = 3;
const CLOCK_OFFSET: u16 = 4;

/// The chunk tags of XDF 1.0, for messages.
fn tag_name(tag: u16) -> String {
    match tag {
        1 => "FileHeader".into(),
        STREAM_HEADER => "StreamHeader".into(),
        SAMPLES => "Samples".into(),
        CLOCK_OFFSET => "ClockOffset".into(),
        5 => "Boundary".into(),
        6 => "StreamFooter".into(),
        other => format!("unknown tag {other}"),
    }
}

/// The file as a sequence of chunks, read one at a time.
struct Chunks<'a> {
    reader: BufReader<File>,
    path: &'a Path,
    /// Byte offset of the next byte to read.
    at: u64,
    size: u64,
    /// Chunks read so far.
    number: usize,
}

struct Chunk {
    number: usize,
    at: u64,
    tag: u16,
    content: Vec<u8>,
}

impl Chunk {
    fn place(&self) -> String {
        format!(
            "chunk {} ({}) at byte {}",
            self.number,
            tag_name(self.tag),
            self.at
        )
    }
}

impl Chunks<'_> {
    fn next(&mut self) -> Result<Option<Chunk>, IngestError> {
        if self.at >= self.size {
            return Ok(None);
        }
        self.number += 1;
        let (number, at) = (self.number, self.at);
        let place = || format!("chunk {number} at byte {at}");
        let mut width = [0u8; 1];
        self.fill(&mut width, place, "a length width")?;
        let mut length = [0u8; 8];
        match width[0] {
            w @ (1 | 4 | 8) => self.fill(&mut length[..usize::from(w)], place, "the length")?,
            other => {
                return Err(IngestError::format(
                    self.path,
                    format!("{}, length width", place()),
                    "1, 4 or 8 (bytes)",
                    other.to_string(),
                ))
            }
        }
        let length = u64::from_le_bytes(length);
        let left = self.size.saturating_sub(self.at);
        if length < 2 || length > left {
            return Err(IngestError::format(
                self.path,
                format!("{}, length field", place()),
                format!(
                    "from 2 (the tag) to the {left} bytes left in the file's {} bytes",
                    self.size
                ),
                if length < 2 {
                    format!("{length}")
                } else {
                    format!("{length} (the chunk is truncated, or its length is wrong)")
                },
            ));
        }
        let mut tag = [0u8; 2];
        self.fill(&mut tag, place, "the tag")?;
        // Bounded by the file size, checked above.
        let mut content = vec![0u8; (length - 2) as usize];
        let tag = u16::from_le_bytes(tag);
        self.fill(
            &mut content,
            || format!("chunk {number} ({}) at byte {at}", tag_name(tag)),
            "the content",
        )?;
        Ok(Some(Chunk {
            number,
            at,
            tag,
            content,
        }))
    }

    /// Reads `buf` whole; the file ending first is a truncation at `place`.
    fn fill(
        &mut self,
        buf: &mut [u8],
        place: impl Fn() -> String,
        what: &str,
    ) -> Result<(), IngestError> {
        match self.reader.read_exact(buf) {
            Ok(()) => {
                self.at += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(IngestError::format(
                self.path,
                place(),
                format!("{what} ({} bytes)", buf.len()),
                "the end of the file (truncated)",
            )),
            Err(e) => Err(IngestError::io(self.path, e)),
        }
    }
}

/// A chunk's content, read front to back.
struct Body<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
    place: &'a str,
}

impl<'a> Body<'a> {
    fn error(&self, expected: impl Into<String>, found: impl Into<String>) -> IngestError {
        IngestError::format(self.path, self.place, expected, found)
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], IngestError> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(self.error(
                format!("{what} ({n} bytes)"),
                format!(
                    "the chunk's end after {left} more bytes (byte {} of its content)",
                    self.pos
                ),
            ));
        }
        let taken = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], IngestError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn f64(&mut self, what: &str) -> Result<f64, IngestError> {
        let x = f64::from_le_bytes(self.array(what)?);
        if x.is_finite() {
            Ok(x)
        } else {
            Err(self.error(format!("{what}: a finite number"), x.to_string()))
        }
    }

    /// A count or length as XDF writes it: its width (1, 4 or 8 bytes), then its value.
    fn var_len(&mut self, what: &str) -> Result<usize, IngestError> {
        let [width] = self.array(what)?;
        let mut value = [0u8; 8];
        match width {
            1 | 4 | 8 => {
                value[..usize::from(width)].copy_from_slice(self.take(usize::from(width), what)?)
            }
            other => {
                return Err(self.error(
                    format!("{what}: a width of 1, 4 or 8 bytes"),
                    other.to_string(),
                ))
            }
        }
        let value = u64::from_le_bytes(value);
        usize::try_from(value)
            .map_err(|_| self.error(format!("{what} that fits in memory"), value.to_string()))
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        rest
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

/// `channel_format` of a stream.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Double64,
    Text,
}

impl Value {
    const NAMES: &'static str = "float32, double64, int8, int16, int32, int64 or string";

    fn parse(name: &str) -> Option<Value> {
        Some(match name {
            "int8" => Value::Int8,
            "int16" => Value::Int16,
            "int32" => Value::Int32,
            "int64" => Value::Int64,
            "float32" => Value::Float32,
            "double64" => Value::Double64,
            "string" => Value::Text,
            _ => return None,
        })
    }

    /// Bytes of one value; a string takes at least a width byte and one length byte.
    fn min_bytes(self) -> usize {
        match self {
            Value::Int8 => 1,
            Value::Int16 | Value::Text => 2,
            Value::Int32 | Value::Float32 => 4,
            Value::Int64 | Value::Double64 => 8,
        }
    }
}

/// One stream: its header, then what its chunks held.
struct Stream {
    id: u32,
    name: String,
    srate_hz: f64,
    value: Value,
    n_channels: usize,
    /// `desc/channels/channel` (label, unit), possibly fewer than `n_channels`.
    channels: Vec<(Option<String>, Option<String>)>,
    /// One timestamp a sample, on the stream's clock.
    stamps: Vec<f64>,
    /// Numeric samples, sample after sample, each `n_channels` values.
    values: Vec<f64>,
    /// String samples, the channels' strings joined.
    texts: Vec<String>,
    /// Clock offsets: (time on the stream's clock, offset to the recorder's clock).
    offsets: Vec<[f64; 2]>,
}

impl Stream {
    /// A stream from its header's XML; `place` names the chunk and the stream.
    fn from_header(path: &Path, place: &str, id: u32, xml: &[u8]) -> Result<Stream, IngestError> {
        let err = |what: &str, expected: &str, found: String| {
            IngestError::format(path, format!("{place}{what}"), expected, found)
        };
        let text = std::str::from_utf8(xml)
            .map_err(|_| err("", "XML in UTF-8", "bytes that are not UTF-8".into()))?;
        let doc = roxmltree::Document::parse(text)
            .map_err(|e| err("", "well-formed XML", e.to_string()))?;
        let info = doc.root_element();
        let child = |node: roxmltree::Node<'_, '_>, tag: &str| {
            node.children()
                .find(|n| n.has_tag_name(tag))
                .map(|n| n.text().unwrap_or_default().trim().to_string())
        };
        let field = |tag: &'static str| {
            child(info, tag).ok_or_else(|| {
                err(
                    &format!(", `{tag}`"),
                    "the field in the stream header",
                    "none".into(),
                )
            })
        };
        let name = child(info, "name")
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("stream {id}"));
        let count = field("channel_count")?;
        let n_channels = count
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                err(
                    ", `channel_count`",
                    "a whole number of channels, at least 1",
                    format!("{count:?}"),
                )
            })?;
        let srate = field("nominal_srate")?;
        let srate_hz = srate
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r >= 0.0)
            .ok_or_else(|| {
                err(
                    ", `nominal_srate`",
                    "a rate in Hz, 0 or more",
                    format!("{srate:?}"),
                )
            })?;
        let format = field("channel_format")?;
        let value = Value::parse(&format)
            .ok_or_else(|| err(", `channel_format`", Value::NAMES, format!("{format:?}")))?;
        let channels = info
            .children()
            .find(|n| n.has_tag_name("desc"))
            .and_then(|d| d.children().find(|n| n.has_tag_name("channels")))
            .map(|list| {
                list.children()
                    .filter(|n| n.has_tag_name("channel"))
                    .take(n_channels)
                    .map(|ch| {
                        let text = |tag| child(ch, tag).filter(|t| !t.is_empty());
                        (text("label"), text("unit"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Stream {
            id,
            name,
            srate_hz,
            value,
            n_channels,
            channels,
            stamps: Vec::new(),
            values: Vec::new(),
            texts: Vec::new(),
            offsets: Vec::new(),
        })
    }

    fn read_samples(&mut self, body: &mut Body<'_>) -> Result<(), IngestError> {
        let n = body.var_len("sample count")?;
        // A sample is at least its timestamp flag and its values: the count is checked
        // against the chunk before anything is reserved for it.
        let min_sample = self
            .n_channels
            .checked_mul(self.value.min_bytes())
            .and_then(|b| b.checked_add(1));
        let max_n = min_sample.map_or(0, |b| body.left() / b);
        if n > max_n {
            return Err(body.error(
                format!(
                    "sample count: at most {max_n} samples of stream {} ({} × {:?}) in the \
                     chunk's {} bytes left",
                    self.id,
                    self.n_channels,
                    self.value,
                    body.left()
                ),
                n.to_string(),
            ));
        }
        let step_s = if self.srate_hz > 0.0 {
            1.0 / self.srate_hz
        } else {
            0.0
        };
        self.stamps.reserve(n);
        for _ in 0..n {
            let [flag] = body.array("timestamp flag")?;
            let stamp = match flag {
                0 => self.stamps.last().copied().unwrap_or(0.0) + step_s,
                8 => body.f64("timestamp")?,
                other => {
                    return Err(body.error(
                        "timestamp flag: 0 (none) or 8 (a double follows)",
                        other.to_string(),
                    ))
                }
            };
            self.stamps.push(stamp);
            if self.value == Value::Text {
                let mut parts = Vec::with_capacity(self.n_channels.min(body.left()));
                for _ in 0..self.n_channels {
                    let len = body.var_len("string length")?;
                    parts.push(String::from_utf8_lossy(body.take(len, "string")?).into_owned());
                }
                self.texts.push(parts.join("; "));
            } else {
                for _ in 0..self.n_channels {
                    let x = match self.value {
                        Value::Int8 => f64::from(i8::from_le_bytes(body.array("value")?)),
                        Value::Int16 => f64::from(i16::from_le_bytes(body.array("value")?)),
                        Value::Int32 => f64::from(i32::from_le_bytes(body.array("value")?)),
                        Value::Int64 => i64::from_le_bytes(body.array("value")?) as f64,
                        Value::Float32 => f64::from(f32::from_le_bytes(body.array("value")?)),
                        Value::Double64 | Value::Text => f64::from_le_bytes(body.array("value")?),
                    };
                    self.values.push(x);
                }
            }
        }
        Ok(())
    }

    fn read_offset(&mut self, body: &mut Body<'_>) -> Result<(), IngestError> {
        let time_s = body.f64("collection time")?;
        let offset_s = body.f64("offset value")?;
        if let Some([last, _]) = self.offsets.last() {
            if time_s < *last {
                return Err(body.error(
                    format!(
                        "stream `{}`: a collection time after the previous one ({last} s)",
                        self.name
                    ),
                    format!(
                        "{time_s} s, a clock reset, which palpa does not handle (split the \
                         recording there)"
                    ),
                ));
            }
        }
        self.offsets.push([time_s, offset_s]);
        Ok(())
    }

    /// The stream's timestamps on the recorder's clock.
    fn corrected(&self) -> Vec<f64> {
        self.stamps
            .iter()
            .map(|&t| t + offset_at(&self.offsets, t))
            .collect()
    }
}

/// The clock offset at `t` (stream clock): linear between the measurements around it, the
/// nearest measurement outside them, 0 without any.
fn offset_at(offsets: &[[f64; 2]], t: f64) -> f64 {
    let i = offsets.partition_point(|o| o[0] <= t);
    match (
        i.checked_sub(1).and_then(|j| offsets.get(j)),
        offsets.get(i),
    ) {
        (None, None) => 0.0,
        (Some(a), None) => a[1],
        (None, Some(b)) => b[1],
        // a[0] <= t < b[0]: the span is not zero.
        (Some(a), Some(b)) => a[1] + (t - a[0]) / (b[0] - a[0]) * (b[1] - a[1]),
    }
}

/// Channels on the common time zero, markers as annotations, and the format's description.
fn assemble(
    path: &Path,
    streams: Vec<Stream>,
    drift_max_ms: f64,
) -> Result<RawRecording, IngestError> {
    let mut regular = Vec::new();
    let mut markers = Vec::new();
    let mut skipped = Vec::new();
    for s in streams {
        let stamps = s.corrected();
        if stamps.is_empty() {
            skipped.push(format!("`{}` (no samples)", s.name));
        } else if s.value == Value::Text {
            markers.push((s, stamps));
        } else if s.srate_hz == 0.0 {
            skipped.push(format!("`{}` (irregular numeric)", s.name));
        } else {
            regular.push((s, stamps));
        }
    }
    let zero_s = regular
        .iter()
        .map(|(_, t)| t[0])
        .reduce(f64::max)
        .or_else(|| markers.iter().map(|(_, t)| t[0]).reduce(f64::min))
        .unwrap_or(0.0);

    let labels: Vec<Vec<String>> = regular
        .iter()
        .map(|(s, _)| {
            (0..s.n_channels)
                .map(|c| match s.channels.get(c) {
                    Some((Some(label), _)) => label.clone(),
                    _ => format!("{} {}", s.name, c + 1),
                })
                .collect()
        })
        .collect();
    let mut channels = Vec::new();
    for (k, (s, stamps)) in regular.iter().enumerate() {
        check_drift(path, s, stamps, drift_max_ms)?;
        let period_s = 1.0 / s.srate_hz;
        let first = stamps.partition_point(|&t| t < zero_s - 0.5 * period_s);
        if first == stamps.len() {
            return Err(IngestError::format(
                path,
                format!("stream `{}`", s.name),
                format!("samples at or after {zero_s} s, where another stream starts"),
                format!("its last sample at {} s", stamps[stamps.len() - 1]),
            ));
        }
        for (c, label) in labels[k].iter().enumerate() {
            let shared = labels
                .iter()
                .enumerate()
                .any(|(j, other)| j != k && other.contains(label));
            channels.push(RawChannel {
                name: if shared {
                    format!("{} {label}", s.name)
                } else {
                    label.clone()
                },
                unit: s.channels.get(c).and_then(|(_, unit)| unit.clone()),
                fs_hz: s.srate_hz,
                samples: (first..stamps.len())
                    .map(|i| s.values[i * s.n_channels + c])
                    .collect::<Array1<f64>>(),
                physical_range: None,
            });
        }
    }
    let mut annotations: Vec<Annotation> = markers
        .iter()
        .flat_map(|(s, stamps)| {
            stamps.iter().zip(&s.texts).map(|(t, text)| Annotation {
                onset_s: t - zero_s,
                duration_s: None,
                text: text.clone(),
                muscle: None,
                side: None,
                site: None,
            })
        })
        .collect();
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    Ok(RawRecording {
        channels,
        annotations,
        format: describe(&regular, markers.len(), &skipped),
        ..RawRecording::default()
    })
}

/// Refuses a stream whose timestamps, at its last sample, are more than `drift_max_ms` from
/// where its nominal rate puts it.
fn check_drift(
    path: &Path,
    s: &Stream,
    stamps: &[f64],
    drift_max_ms: f64,
) -> Result<(), IngestError> {
    let (Some(first), Some(last)) = (stamps.first(), stamps.last()) else {
        return Ok(());
    };
    let n = stamps.len();
    let nominal_s = (n - 1) as f64 / s.srate_hz;
    let drift_ms = (last - first - nominal_s) * 1e3;
    if drift_ms.abs() <= drift_max_ms {
        return Ok(());
    }
    Err(IngestError::format(
        path,
        format!("stream `{}`", s.name),
        format!(
            "timestamps within qc.xdf_drift_max_ms = {drift_max_ms} ms of its nominal {} Hz",
            s.srate_hz
        ),
        format!(
            "{n} samples stamped over {:.6} s, not {nominal_s:.6} s: {drift_ms:+.1} ms at the \
             last sample (the timestamps give {:.4} Hz; samples lost, or the nominal rate is wrong)",
            last - first,
            (n - 1) as f64 / (last - first)
        ),
    ))
}

/// `XDF (2 streams: Algometer 100 Hz, EMG 2000 Hz; 1 marker stream)`.
fn describe(regular: &[(Stream, Vec<f64>)], n_markers: usize, skipped: &[String]) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if !regular.is_empty() {
        let list: Vec<String> = regular
            .iter()
            .map(|(s, _)| format!("{} {} Hz", s.name, s.srate_hz))
            .collect();
        parts.push(format!(
            "{}: {}",
            plural(regular.len(), "stream"),
            list.join(", ")
        ));
    }
    if n_markers > 0 {
        parts.push(plural(n_markers, "marker stream"));
    }
    if !skipped.is_empty() {
        parts.push(format!("skipped: {}", skipped.join(", ")));
    }
    if parts.is_empty() {
        "XDF (no streams)".to_string()
    } else {
        format!("XDF ({})", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_interpolate_between_measurements_and_hold_outside() {
        let offsets = [[10.0, -1.0], [20.0, -2.0], [30.0, -2.0]];
        assert_eq!(offset_at(&[], 5.0), 0.0);
        assert_eq!(offset_at(&offsets[..1], 50.0), -1.0);
        assert_eq!(offset_at(&offsets, 0.0), -1.0);
        assert_eq!(offset_at(&offsets, 10.0), -1.0);
        assert!((offset_at(&offsets, 12.5) + 1.25).abs() < 1e-12);
        assert_eq!(offset_at(&offsets, 25.0), -2.0);
        assert_eq!(offset_at(&offsets, 99.0), -2.0);
    }

    #[test]
    fn magic_is_recognised() {
        assert!(is_xdf(b"XDF:\x01\x3a"));
        assert!(!is_xdf(b"XDF"));
        assert!(!is_xdf(b"0       "));
    }
}
