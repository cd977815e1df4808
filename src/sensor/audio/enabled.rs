//! The microphone through cpal (feature `audio`). cpal's `Stream` may not be
//! `Send` and delivers sound on its own callback thread, so the stream is
//! built and kept on a capture thread (`sensor::capture`); the data callback
//! converts each delivery to one mono chunk at the profile's rate and queues it.
//!
//! A chunk's start is the driver's capture instant, carried onto the pipeline
//! clock by the callback's delay (callback instant - capture instant) at the
//! moment the callback runs; `ChunkClock` keeps a continuous stream continuous.
//! An overrun (`Xrun`) is transient; any other stream error (a device
//! unplugged) is fatal, for `Restarting` to reopen.

use super::mix::{choose, downmix, ChunkClock, Offer, Resampler};
use super::{AudioDeviceInfo, AudioOptions, DEFAULT_DEVICE};
use crate::sample::{AudioChunk, Modality, Sample};
use crate::sensor::capture::{Capture, Feed, Ready};
use crate::sensor::{Source, SourceError, SourceMonitor, MAX_BLOCK};
use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{BufferSize, Data, ErrorKind, InputCallbackInfo, SampleFormat, StreamConfig};
use std::sync::Arc;
use std::time::Duration;

pub const ENABLED: bool = true;

const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Chunks queued for the source: a few seconds of 10 ms deliveries.
const QUEUE: usize = 256;
/// Callback jitter absorbed into a continuous stream (`ChunkClock`).
const JITTER_NS: u64 = 20_000_000;
/// ALSA's "null" device: silence as fast as it is read, no microphone.
const NULL_DEVICE: &str = "null";

/// What was opened, for the monitor.
struct Negotiated {
    device: String,
    channels: u16,
    device_hz: u32,
    format: SampleFormat,
    rate_hz: u32,
}

impl std::fmt::Display for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, hz, fmt, to) = (self.channels, self.device_hz, self.format, self.rate_hz);
        write!(f, "{hz} Hz {n} ch {fmt} -> {to} Hz mono")
    }
}

struct LiveMic {
    name: String,
    capture: Capture,
    monitor: SourceMonitor,
}

pub fn open(options: &AudioOptions, shutdown: &Shutdown) -> Result<Box<dyn Source>, SourceError> {
    let o = options.clone();
    let (capture, n) = Capture::start(
        &options.name,
        QUEUE,
        OPEN_TIMEOUT,
        o.monitor.clone(),
        shutdown,
        move |feed, ready| run(feed, ready, o),
    )?;
    options
        .monitor
        .opened(n.device.clone(), n.to_string(), Some(f64::from(n.rate_hz)));
    Ok(Box::new(LiveMic {
        name: options.name.clone(),
        capture,
        monitor: options.monitor.clone(),
    }))
}

/// The capture thread: build and play the stream, then keep it until stopped.
fn run(feed: Feed, ready: Ready<Negotiated>, o: AudioOptions) {
    let feed = Arc::new(feed);
    let (stream, negotiated) = match start(&o, feed.clone()) {
        Ok(started) => started,
        Err(reason) => {
            let _ = ready.send(Err(SourceError::fatal(
                format!("open microphone {:?}", o.device),
                reason,
            )));
            return;
        }
    };
    if ready.send(Ok(negotiated)).is_ok() {
        while !feed.stopped() {
            std::thread::sleep(MAX_BLOCK);
        }
    }
    drop(stream);
}

fn start(o: &AudioOptions, feed: Arc<Feed>) -> Result<(cpal::Stream, Negotiated), String> {
    let device = find(&o.device)?;
    let name = device.to_string();
    let ranges: Vec<_> = device
        .supported_input_configs()
        .map_err(|e| e.to_string())?
        .collect();
    let offers: Vec<Offer> = ranges
        .iter()
        .map(|r| Offer {
            channels: r.channels(),
            min_hz: r.min_sample_rate(),
            max_hz: r.max_sample_rate(),
            format_rank: rank(r.sample_format()),
        })
        .collect();
    let (i, device_hz) = choose(&offers, o.rate_hz)
        .ok_or("offers no input configuration in a sample format mmcl converts")?;
    let range = ranges.get(i).ok_or("the chosen configuration vanished")?;
    let (channels, format) = (range.channels(), range.sample_format());
    let config = StreamConfig {
        channels,
        sample_rate: device_hz,
        buffer_size: BufferSize::Default,
    };
    let mut chunker = Chunker {
        channels: usize::from(channels),
        resampler: Resampler::new(device_hz, o.rate_hz),
        stamps: ChunkClock::new(o.rate_hz, JITTER_NS),
        clock: o.clock.clone(),
        rate_hz: o.rate_hz,
    };
    let data_feed = feed.clone();
    let on_data = move |data: &Data, info: &InputCallbackInfo| {
        if let Some(chunk) = chunker.chunk(data, info) {
            data_feed.push(Ok(Sample::Audio(chunk)));
        }
    };
    let action = format!("capture from microphone {name}");
    let on_error = move |e: cpal::Error| {
        let error = match e.kind() {
            ErrorKind::Xrun => SourceError::transient(&action, e),
            _ => SourceError::fatal(&action, e),
        };
        feed.push(Err(error));
    };
    let stream = device
        .build_input_stream_raw(config, format, on_data, on_error, None)
        .map_err(|e| e.to_string())?;
    stream.play().map_err(|e| e.to_string())?;
    Ok((
        stream,
        Negotiated {
            device: name,
            channels,
            device_hz,
            format,
            rate_hz: o.rate_hz,
        },
    ))
}

/// The default input or the device named `wanted`; ALSA's null device only by name.
fn find(wanted: &str) -> Result<cpal::Device, String> {
    let host = cpal::default_host();
    let device = match wanted {
        DEFAULT_DEVICE => host
            .default_input_device()
            .ok_or("the host has no default input device")?,
        name => host
            .input_devices()
            .map_err(|e| e.to_string())?
            .find(|d| d.to_string() == name)
            .ok_or_else(|| format!("no input device named {name:?} (mmcl sensors lists them)"))?,
    };
    if device.to_string() == NULL_DEVICE && wanted != NULL_DEVICE {
        return Err("the only input is ALSA's null device (no sound card)".into());
    }
    Ok(device)
}

/// Preference among the sample formats converted to f32 here.
fn rank(format: SampleFormat) -> Option<u8> {
    Some(match format {
        SampleFormat::F32 => 0,
        SampleFormat::I16 => 1,
        SampleFormat::I32 => 2,
        SampleFormat::U16 => 3,
        SampleFormat::I8 => 4,
        SampleFormat::U8 => 5,
        SampleFormat::F64 => 6,
        _ => return None,
    })
}

/// One callback's data to f32, whatever its sample format.
fn to_f32(data: &Data) -> Option<Vec<f32>> {
    use cpal::Sample as _;
    Some(match data.sample_format() {
        SampleFormat::F32 => data.as_slice::<f32>()?.to_vec(),
        SampleFormat::I16 => data
            .as_slice::<i16>()?
            .iter()
            .map(|s| s.to_sample::<f32>())
            .collect(),
        SampleFormat::I32 => data
            .as_slice::<i32>()?
            .iter()
            .map(|s| s.to_sample::<f32>())
            .collect(),
        SampleFormat::U16 => data
            .as_slice::<u16>()?
            .iter()
            .map(|s| s.to_sample::<f32>())
            .collect(),
        SampleFormat::I8 => data
            .as_slice::<i8>()?
            .iter()
            .map(|s| s.to_sample::<f32>())
            .collect(),
        SampleFormat::U8 => data
            .as_slice::<u8>()?
            .iter()
            .map(|s| s.to_sample::<f32>())
            .collect(),
        SampleFormat::F64 => data
            .as_slice::<f64>()?
            .iter()
            .map(|s| s.to_sample::<f32>())
            .collect(),
        _ => return None,
    })
}

/// Deliveries to chunks: f32, mono, resampled, stamped.
struct Chunker {
    channels: usize,
    resampler: Resampler,
    stamps: ChunkClock,
    clock: Arc<dyn Clock>,
    rate_hz: u32,
}

impl Chunker {
    fn chunk(&mut self, data: &Data, info: &InputCallbackInfo) -> Option<AudioChunk> {
        let now = self.clock.now();
        let mono = downmix(&to_f32(data)?, self.channels);
        let pcm = self.resampler.process(&mono);
        if pcm.is_empty() {
            return None;
        }
        let ts = info.timestamp();
        let delay = ts.callback.duration_since(ts.capture);
        let estimate = Timestamp(now.nanos().saturating_sub(delay.as_nanos() as u64));
        let t = self.stamps.stamp(estimate, pcm.len());
        Some(AudioChunk {
            t,
            rate_hz: self.rate_hz,
            pcm,
        })
    }
}

impl Source for LiveMic {
    fn name(&self) -> &str {
        &self.name
    }

    fn modalities(&self) -> &[Modality] {
        &[Modality::Audio]
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        self.capture.next(shutdown)
    }

    // No `expected_rate_hz`: health counts chunks, and how many samples a
    // chunk holds is the driver's choice, so no chunk rate is promised.

    fn monitor(&self) -> Option<SourceMonitor> {
        Some(self.monitor.clone())
    }
}

/// The input devices the host lists, with their default configuration.
pub fn list() -> Result<Vec<AudioDeviceInfo>, String> {
    let host = cpal::default_host();
    let devices = host.input_devices().map_err(|e| e.to_string())?;
    Ok(devices
        .map(|d| {
            let config = d.default_input_config().ok();
            AudioDeviceInfo {
                name: d.to_string(),
                rate_hz: config.as_ref().map(|c| c.sample_rate()),
                channels: config.as_ref().map(|c| c.channels()),
            }
        })
        .collect())
}
