use super::*;
use crate::align::{WindowParams, WindowSpec};
use crate::sample::{Frame, ImuSample, Modality, Sample};
use crate::sensor::{Source, SourceError};
use crate::shutdown::Shutdown;
use crate::time::Timestamp;
use crate::window::Window;
use std::collections::VecDeque;

/// A source over a fixed list of samples (test double).
struct ListSource {
    name: String,
    samples: VecDeque<Sample>,
    modalities: Vec<Modality>,
}

impl ListSource {
    /// `secs` of 25 Hz IMU and 5 fps 16x16 frames, in timestamp order.
    fn steady(name: &str, secs: u64) -> ListSource {
        let mut samples = Vec::new();
        for i in 0..secs * 25 {
            let t = Timestamp(i * 40_000_000);
            samples.push(Sample::Imu(ImuSample {
                t,
                acc: [0.0, 0.0, 1.0],
                gyro: [i as f32, 0.0, 0.0],
            }));
            if i % 5 == 0 {
                samples.push(Sample::Frame(Frame::new(t, 16, 16, vec![7; 768]).unwrap()));
            }
        }
        ListSource {
            name: name.into(),
            samples: samples.into(),
            modalities: vec![Modality::Video, Modality::Imu],
        }
    }
}

impl Source for ListSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    fn next_sample(&mut self, _: &Shutdown) -> Result<Option<Sample>, SourceError> {
        Ok(self.samples.pop_front())
    }
}

fn spec() -> WindowSpec {
    WindowSpec::new(WindowParams {
        seconds: 2.0,
        stride_seconds: 1.0,
        imu_rate_hz: 25.0,
        frames: 4,
        ..WindowParams::default()
    })
    .unwrap()
}

fn run(sources: Vec<Box<dyn Source>>, settings: &PipelineSettings) -> Vec<SeqWindow> {
    let shutdown = Shutdown::new();
    let p =
        Pipeline::start_windows(sources, &spec(), Timestamp::ZERO, settings, &shutdown).unwrap();
    let windows: Vec<SeqWindow> = p.output().iter().collect();
    let outcome = p.join();
    assert!(outcome.errors().next().is_none(), "{outcome:?}");
    windows
}

#[test]
fn a_lossless_pipeline_yields_every_full_window_with_both_modalities() {
    let settings = PipelineSettings {
        frame_size: Some((8, 4)),
        ..PipelineSettings::lossless()
    };
    let windows = run(vec![Box::new(ListSource::steady("list", 10))], &settings);
    let full: Vec<&Window> = windows
        .iter()
        .map(|w| &w.window)
        .filter(|w| w.imu.is_some() && w.video.is_some())
        .collect();
    // 10 s of data (last IMU sample at 9.96 s), 2 s windows every 1 s. The window at
    // 8 s needs a sample after its last grid point (9.98 s) to interpolate it, and the
    // aligner never extrapolates: its IMU is absent, so starts 0..=7 are full.
    assert_eq!(full.len(), 8);
    assert!(full.iter().all(|w| w.imu.as_ref().unwrap().len == 50));
    let frames = full.iter().flat_map(|w| &w.video.as_ref().unwrap().frames);
    assert!(frames
        .into_iter()
        .all(|f| (f.width, f.height, f.rgb.len()) == (8, 4, 96)));
    let seqs: Vec<u64> = windows.iter().map(|w| w.seq).collect();
    assert_eq!(seqs, (0..windows.len() as u64).collect::<Vec<_>>());
}

#[test]
fn sources_are_checked_before_anything_starts() {
    let shutdown = Shutdown::new();
    let settings = PipelineSettings::default();
    let start = |sources: Vec<Box<dyn Source>>| {
        Pipeline::start_windows(sources, &spec(), Timestamp::ZERO, &settings, &shutdown).err()
    };
    assert!(matches!(start(vec![]), Some(PipelineError::NoSources)));
    let twins: Vec<Box<dyn Source>> = vec![
        Box::new(ListSource::steady("a", 1)),
        Box::new(ListSource::steady("a", 1)),
    ];
    let err = start(twins).unwrap();
    assert_eq!(
        err.to_string(),
        "two sources are named `a`; names identify sources in health and errors"
    );
    let two_cameras: Vec<Box<dyn Source>> = vec![
        Box::new(ListSource::steady("a", 1)),
        Box::new(ListSource::steady("b", 1)),
    ];
    let err = start(two_cameras).unwrap();
    assert_eq!(
        err.to_string(),
        "sources `a` and `b` both emit video; the aligner takes one stream per modality"
    );
}

#[test]
fn health_counts_what_each_source_delivered() {
    let shutdown = Shutdown::new();
    let settings = PipelineSettings::lossless();
    let sources: Vec<Box<dyn Source>> = vec![Box::new(ListSource::steady("list", 4))];
    let p =
        Pipeline::start_windows(sources, &spec(), Timestamp::ZERO, &settings, &shutdown).unwrap();
    let windows = p.output().iter().count() as u64;
    // The output disconnected: every stage has ended and written its last report.
    let h = p.health();
    let src = h.source("list").unwrap();
    assert_eq!(src.state, SourceState::Ended);
    let delivered: Vec<(Modality, u64)> = src
        .modalities
        .iter()
        .map(|m| (m.modality, m.delivered))
        .collect();
    assert_eq!(delivered, [(Modality::Video, 20), (Modality::Imu, 100)]);
    assert_eq!((src.samples_delivered, src.dropped), (120, 0));
    assert_eq!(src.last_sample_ns, Some(99 * 40_000_000));
    assert_eq!(h.aligner.windows_emitted, windows);
    assert_eq!(h.aligner.stats.imu.accepted, 100);
    let names: Vec<&str> = h.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["list/video", "list/imu", "windows"]);
    assert_eq!(h.by_modality().len(), 2);
    assert!(serde_json::to_string(&h)
        .unwrap()
        .contains("\"state\":\"ended\""));
    p.join().into_result().unwrap();
}
