//! OpenSignals (PLUX) HDF5 recordings (`.h5`, DESIGN §2.2), read with the pure-Rust
//! `hdf5-reader` crate: no C library, so `cargo` alone still builds palpa.
//!
//! Layout: the root holds one group per device, named by its MAC address, with attributes
//! `sampling rate` (Hz), `resolution` (ADC bits, one per channel or one for all), `channels`
//! (the channel numbers), `device`, `date` and `time`; `raw/channel_N` holds the ADC counts,
//! shape (n, 1). palpa reads files of one device. `raw/nSeq`, `digital/*`, `support/*`
//! (decimated previews) and `events/*` are not read.
//!
//! Counts become mV by the PLUX EMG sensor's transfer function for the file's `device`
//! (`raw * 3 / 2^resolution - 1.5` on biosignalsplux, bioplux and channeller: VCC 3 V, gain
//! 1000), a calibration: the file names no sensor, and OpenSignals HDF5 is the format PLUX
//! EMG recordings come in, so each channel is `EMG channel_N` in mV. The physical range is
//! what the ADC's counts span through that function.

use std::path::Path;

use hdf5_reader::group::Group;
use hdf5_reader::Hdf5File;

use super::opensignals::{emg_full_scale_mv, start_of, KNOWN_DEVICES};
use super::{IngestError, RawChannel, RawRecording};

/// Reads the raw channels of an OpenSignals HDF5 file, in mV.
///
/// # Errors
/// The file is not HDF5, or lacks the OpenSignals device group, attributes or channels.
pub fn read(path: &Path) -> Result<RawRecording, IngestError> {
    let hdf5 = |place: &str, expected: &str| {
        let place = place.to_string();
        let expected = expected.to_string();
        move |e: hdf5_reader::error::Error| {
            IngestError::format(path, &place, &expected, e.to_string())
        }
    };
    let file = Hdf5File::open(path).map_err(hdf5("file", "an HDF5 file"))?;
    let devices = file
        .root_group()
        .and_then(|root| root.groups())
        .map_err(hdf5("root group", "OpenSignals device groups"))?;
    let [device] = devices.as_slice() else {
        return Err(IngestError::format(
            path,
            "root group",
            "one device group (named by its MAC address)",
            format!("{} groups", devices.len()),
        ));
    };
    let place = |what: &str| format!("group `{}`, {what}", device.name());
    let number = |name: &str| -> Result<Vec<f64>, IngestError> {
        let attribute = device
            .attribute(name)
            .map_err(hdf5(&place(&format!("attribute `{name}`")), "a number"))?;
        attribute
            .read_1d::<f64>()
            .or_else(|_| attribute.read_as_f64().map(|v| vec![v]))
            .map_err(hdf5(&place(&format!("attribute `{name}`")), "a number"))
    };
    let text = |name: &str| device.attribute(name).and_then(|a| a.read_string()).ok();
    let fs_hz = number("sampling rate")?
        .first()
        .copied()
        .filter(|fs| fs.is_finite() && *fs > 0.0)
        .ok_or_else(|| {
            IngestError::format(
                path,
                place("attribute `sampling rate`"),
                "a rate in Hz above 0",
                "none",
            )
        })?;
    let model = text("device").unwrap_or_default();
    let full_scale_mv = emg_full_scale_mv(&model).ok_or_else(|| {
        IngestError::format(
            path,
            place("attribute `device`"),
            KNOWN_DEVICES,
            format!("`{model}`"),
        )
    })?;
    let numbers = number("channels")?;
    let resolutions = number("resolution")?;
    let raw = device
        .group("raw")
        .map_err(hdf5(&place("group `raw`"), "the raw channels"))?;
    let channels = numbers
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let bits = resolutions
                .get(i)
                .or(resolutions.first())
                .copied()
                .filter(|b| (1.0..=32.0).contains(b) && b.fract() == 0.0)
                .ok_or_else(|| {
                    IngestError::format(
                        path,
                        place("attribute `resolution`"),
                        format!("the ADC bits (1 to 32) of channel {n}"),
                        format!("{resolutions:?}"),
                    )
                })?;
            let adc = [bits, full_scale_mv];
            channel(path, device, &raw, &format!("channel_{n}"), fs_hz, adc)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (start, start_offset_s) = text("date")
        .zip(text("time"))
        .and_then(|(d, t)| start_of(&d, &t))
        .map_or((None, 0.0), |(s, f)| (Some(s), f));
    Ok(RawRecording {
        channels,
        start,
        start_offset_s,
        format: match text("device") {
            Some(d) if !d.is_empty() => format!("OpenSignals HDF5 ({d})"),
            _ => "OpenSignals HDF5".to_string(),
        },
        ..RawRecording::default()
    })
}

/// `raw/<name>` in mV, by the EMG transfer function of span `full_scale_mv` at `bits` of
/// resolution.
fn channel(
    path: &Path,
    device: &Group,
    raw: &Group,
    name: &str,
    fs_hz: f64,
    [bits, full_scale_mv]: [f64; 2],
) -> Result<RawChannel, IngestError> {
    let place = format!("group `{}`, dataset `raw/{name}`", device.name());
    let counts = raw
        .dataset(name)
        .and_then(|d| d.read_array::<u16>())
        .map_err(|e| IngestError::format(path, &place, "unsigned 16-bit counts", e.to_string()))?;
    let to_mv = |c: f64| c * full_scale_mv / 2f64.powf(bits) - full_scale_mv / 2.0;
    Ok(RawChannel {
        name: format!("EMG {name}"),
        unit: Some("mV".to_string()),
        fs_hz,
        samples: counts.iter().map(|&c| to_mv(f64::from(c))).collect(),
        physical_range: Some([to_mv(0.0), to_mv(2f64.powf(bits) - 1.0)]),
    })
}
