//! The graph under failure and shutdown: a source that dies mid-stream is
//! reported by name while the others go on with its modality absent; every
//! stage stops within 100 ms of the shutdown, a source blocked reading an empty
//! FIFO included (measured); a source that ignores the contract is reported
//! after the join timeout instead of hanging the caller; encoder failures and
//! refused set-ups come back as errors naming the stage.
#![cfg(feature = "tract")]

mod pipeline_support;

use mmcl::config::{WindowConfig, WindowShape};
use mmcl::pipeline::{Pipeline, PipelineError, PipelineSettings, SourceState, Stage, StageEnd};
use mmcl::sample::{Modality, Sample};
use mmcl::sensor::imu::{ImuStream, ImuStreamOptions, Stamping};
use mmcl::sensor::replay::{Playlist, ReplaySource};
use mmcl::sensor::{Pacing, Source, SourceError};
use mmcl::shutdown::Shutdown;
use mmcl::time::{Clock, MonotonicClock, Timestamp};
use pipeline_support::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn tiny_spec() -> mmcl::align::WindowSpec {
    let c = tiny_encoder().contract().clone();
    let params = WindowConfig::default()
        .params_for(&WindowShape::of(&c), &c.name)
        .expect("the tiny encoder's window");
    mmcl::align::WindowSpec::new(params).unwrap()
}

fn paced(speed: f64) -> Pacing {
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    Pacing::Clock {
        clock,
        speed,
        origin: Timestamp::ZERO,
    }
}

/// A video-only replay of a clip of `frames` 64x48 JPEGs. Write the clip before
/// making the pacing clock: a clock that ran while 300 JPEGs were written would
/// have the sources start seconds behind it and burst.
fn replay(clip: mmcl::dataset::Clip, pacing: Pacing) -> ReplaySource {
    ReplaySource::new(Playlist::once(vec![clip]), Timestamp::ZERO, 0, pacing)
        .with_name("camera")
        .only(&[Modality::Video])
}

#[test]
fn a_source_that_dies_is_reported_by_name_and_the_others_go_on() {
    let root = tempfile::tempdir().unwrap();
    let clip = video_clip(root.path(), "v", 300, (64, 48));
    let pacing = paced(20.0);
    // 12 s of video; the IMU recording dies at 5 s.
    let video = replay(clip, pacing.clone());
    let imu = DiesAt {
        inner: imu_source(pacing),
        at: Timestamp(5_000 * MS),
    };
    let sources: Vec<Box<dyn Source>> = vec![Box::new(video), Box::new(imu)];
    let shutdown = Shutdown::new();
    let encoder = tiny_encoder();
    let p = Pipeline::start(
        sources,
        &tiny_spec(),
        Timestamp::ZERO,
        encoder,
        &PipelineSettings::lossless(),
        &shutdown,
    )
    .unwrap();
    let out: Vec<_> = p.output().iter().collect();
    let h = p.health();
    let imu = h.source("imu").unwrap();
    assert_eq!((imu.state, imu.fatal_errors), (SourceState::Failed, 1));
    assert_eq!(
        imu.last_error.as_deref(),
        Some("read /dev/imu0: No such device (os error 19)")
    );
    let camera = h.source("camera").unwrap();
    assert_eq!(
        (camera.state, camera.samples_delivered),
        (SourceState::Ended, 300)
    );
    let encoder = h.encoder.as_ref().unwrap();
    let times = encoder.ms_per_window.expect("windows were encoded");
    eprintln!(
        "tiny encoder, ms per window: p50 {:.3}, p99 {:.3}",
        times.p50, times.p99
    );
    assert_eq!(encoder.windows_encoded, out.len() as u64);
    // Windows are 2 s every 1 s. Those wholly before the death keep the IMU...
    let before: Vec<_> = out
        .iter()
        .filter(|w| w.end <= Timestamp(4_500 * MS))
        .collect();
    assert!(
        before.len() >= 3
            && before
                .iter()
                .all(|w| w.present == [Modality::Video, Modality::Imu]),
        "{before:?}"
    );
    // ... and every window after it has video only, to the end of the video.
    let after: Vec<_> = out
        .iter()
        .filter(|w| w.start >= Timestamp(5_000 * MS))
        .collect();
    assert!(after.len() >= 5, "{} windows after the death", after.len());
    assert!(after
        .iter()
        .all(|w| w.present == [Modality::Video] && w.encoded.imu.is_none()));
    assert!(after.last().unwrap().end >= Timestamp(11_000 * MS));
    let outcome = p.join();
    let failed = outcome.stage(&Stage::Source("imu".into())).unwrap();
    match &failed.result {
        Err(e @ PipelineError::Source { name, .. }) => {
            assert_eq!(name, "imu");
            assert_eq!(
                e.to_string(),
                "source `imu` failed: read /dev/imu0: No such device (os error 19)"
            );
        }
        other => panic!("imu outcome: {other:?}"),
    }
    for stage in [
        Stage::Source("camera".into()),
        Stage::Aligner,
        Stage::Encoder,
    ] {
        let o = outcome.stage(&stage).unwrap();
        assert!(
            matches!(o.result, Ok(StageEnd::Finished)),
            "{stage}: {:?}",
            o.result
        );
    }
}

/// A FIFO with a writer that never writes: a blocking read on it never returns.
fn silent_fifo(dir: &std::path::Path) -> (ImuStream, std::fs::File) {
    let path = dir.join("imu.fifo");
    mkfifo(&path);
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let options = ImuStreamOptions {
        stamping: Stamping::Arrival(clock),
        ..ImuStreamOptions::recording("imu", 100.0)
    };
    // Reader first (opens at once, non-blocking), then the silent writer.
    let stream = ImuStream::open(&path, options).unwrap();
    let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    (stream, writer)
}

#[test]
fn every_stage_stops_within_100_ms_of_the_shutdown_even_a_source_blocked_in_a_read() {
    let root = tempfile::tempdir().unwrap();
    let (imu, _writer) = silent_fifo(root.path());
    let clip = video_clip(root.path(), "v", 500, (64, 48));
    // Real time: the replay sits in its pacing wait between frames.
    let video = replay(clip, paced(1.0));
    let sources: Vec<Box<dyn Source>> = vec![Box::new(video), Box::new(imu)];
    let shutdown = Shutdown::new();
    let p = Pipeline::start(
        sources,
        &tiny_spec(),
        Timestamp::ZERO,
        tiny_encoder(),
        &PipelineSettings::default(),
        &shutdown,
    )
    .unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        p.health()
            .source("camera")
            .is_some_and(|s| s.samples_delivered >= 5)
    }));
    let imu = p.health().source("imu").unwrap().clone();
    assert_eq!(
        (imu.state, imu.samples_delivered),
        (SourceState::Starting, 0)
    );
    let t0 = Instant::now();
    shutdown.trigger();
    let outcome = p.join();
    let stopped_in = t0.elapsed();
    eprintln!(
        "all stages stopped {:.1} ms after the trigger",
        stopped_in.as_secs_f64() * 1e3
    );
    for o in &outcome.stages {
        assert!(
            matches!(o.result, Ok(StageEnd::Stopped)),
            "{}: {:?}",
            o.stage,
            o.result
        );
    }
    assert_eq!(outcome.stages.len(), 4);
    assert!(
        stopped_in < Duration::from_millis(100),
        "took {stopped_in:?}"
    );
}

/// Breaks the `Source` contract: blocks for seconds without looking at the signal.
struct Stubborn;

impl Source for Stubborn {
    fn name(&self) -> &str {
        "stubborn"
    }
    fn modalities(&self) -> &[Modality] {
        &[Modality::Imu]
    }
    fn next_sample(&mut self, _: &Shutdown) -> Result<Option<Sample>, SourceError> {
        std::thread::sleep(Duration::from_secs(3));
        Ok(None)
    }
}

#[test]
fn a_source_that_ignores_the_shutdown_is_reported_after_the_join_timeout() {
    let root = tempfile::tempdir().unwrap();
    let video = replay(video_clip(root.path(), "v", 100, (64, 48)), paced(1.0));
    let sources: Vec<Box<dyn Source>> = vec![Box::new(video), Box::new(Stubborn)];
    let shutdown = Shutdown::new();
    let settings = PipelineSettings {
        join_timeout: Duration::from_millis(200),
        ..PipelineSettings::default()
    };
    let spec = tiny_spec();
    let p = Pipeline::start_windows(sources, &spec, Timestamp::ZERO, &settings, &shutdown).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let t0 = Instant::now();
    let outcome = p.stop();
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let hung = outcome.stage(&Stage::Source("stubborn".into())).unwrap();
    let err = hung.result.as_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the source `stubborn` thread did not stop within 200 ms of the shutdown; left running"
    );
    for stage in [Stage::Source("camera".into()), Stage::Aligner] {
        assert!(matches!(
            outcome.stage(&stage).unwrap().result,
            Ok(StageEnd::Stopped)
        ));
    }
}

/// The tiny encoder whose every run fails.
struct Broken(Box<dyn mmcl::encode::Encoder>);

impl mmcl::encode::Encoder for Broken {
    fn contract(&self) -> &mmcl::encode::ModelContract {
        self.0.contract()
    }
    fn backend(&self) -> mmcl::encode::BackendInfo {
        self.0.backend()
    }
    fn batch_size(&self) -> usize {
        self.0.batch_size()
    }
    fn run(
        &mut self,
        _: &mmcl::encode::Batch,
    ) -> Result<mmcl::encode::BatchOutputs, mmcl::encode::EncodeError> {
        Err(mmcl::encode::EncodeError::Backend {
            backend: "tract",
            action: "run the model".into(),
            message: "out of memory".into(),
        })
    }
}

#[test]
fn an_encoder_failure_ends_the_graph_and_is_returned_by_name() {
    let root = tempfile::tempdir().unwrap();
    let sources: Vec<Box<dyn Source>> = vec![
        Box::new(replay(
            video_clip(root.path(), "v", 200, (64, 48)),
            Pacing::Unpaced,
        )),
        Box::new(imu_source(Pacing::Unpaced)),
    ];
    let shutdown = Shutdown::new();
    let encoder = Box::new(Broken(tiny_encoder()));
    let p = Pipeline::start(
        sources,
        &tiny_spec(),
        Timestamp::ZERO,
        encoder,
        &PipelineSettings::lossless(),
        &shutdown,
    )
    .unwrap();
    assert_eq!(p.output().iter().count(), 0);
    let h = p.health();
    assert!(h
        .encoder
        .as_ref()
        .unwrap()
        .last_error
        .as_deref()
        .unwrap()
        .contains("out of memory"));
    let outcome = p.join();
    let e = outcome
        .stage(&Stage::Encoder)
        .unwrap()
        .result
        .as_ref()
        .unwrap_err();
    assert!(
        matches!(e, PipelineError::Encode { first_seq: 0, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("encoder tiny-test-encoder failed on windows 0..="),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("tract: cannot run the model: out of memory"),
        "{e}"
    );
    // Upstream stages saw their consumer gone and stopped: nothing hangs.
    assert!(matches!(
        outcome.stage(&Stage::Aligner).unwrap().result,
        Ok(StageEnd::Abandoned)
    ));
    assert!(!shutdown.is_triggered());
}

#[test]
fn audio_into_an_encoder_without_an_audio_input_is_refused_at_start() {
    let sources: Vec<Box<dyn Source>> = vec![
        Box::new(imu_source(Pacing::Unpaced)),
        Box::new(ToneSource::new(2, Pacing::Unpaced)),
    ];
    let encoder = tiny_encoder();
    let name = encoder.contract().name.clone();
    let err = match Pipeline::start(
        sources,
        &tiny_spec(),
        Timestamp::ZERO,
        encoder,
        &PipelineSettings::default(),
        &Shutdown::new(),
    ) {
        Err(e) => e,
        Ok(_) => panic!("audio was accepted"),
    };
    assert_eq!(
        err.to_string(),
        format!("source `mic` emits audio, but encoder {name} has no audio input (its modalities: video, imu)")
    );
}

#[test]
fn a_window_spec_of_another_shape_than_the_encoder_is_refused() {
    let params = mmcl::align::WindowParams {
        frames: 8,
        ..tiny_spec().params().clone()
    };
    let spec = mmcl::align::WindowSpec::new(params).unwrap();
    let sources: Vec<Box<dyn Source>> = vec![Box::new(imu_source(Pacing::Unpaced))];
    let err = Pipeline::start(
        sources,
        &spec,
        Timestamp::ZERO,
        tiny_encoder(),
        &PipelineSettings::default(),
        &Shutdown::new(),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string()
            .ends_with("disagree on frames per window: the spec has 8, the encoder takes 4"),
        "{err}"
    );
}
