use super::*;
use crate::align::WindowParams;
use crate::sample::{Frame, ImuSample, Modality};

/// A source over a fixed list of samples (test double).
struct ListSource {
    samples: VecDeque<Sample>,
    modalities: Vec<Modality>,
}

impl ListSource {
    /// `secs` of 25 Hz IMU and 5 fps 8x8 frames, in timestamp order.
    fn steady(secs: u64) -> ListSource {
        let mut samples = Vec::new();
        for i in 0..secs * 25 {
            let t = Timestamp(i * 40_000_000);
            samples.push(Sample::Imu(ImuSample {
                t,
                acc: [0.0, 0.0, 1.0],
                gyro: [i as f32, 0.0, 0.0],
            }));
            if i % 5 == 0 {
                samples.push(Sample::Frame(Frame::new(t, 8, 8, vec![7; 192]).unwrap()));
            }
        }
        ListSource {
            samples: samples.into(),
            modalities: vec![Modality::Video, Modality::Imu],
        }
    }
}

impl Source for ListSource {
    fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    fn next_sample(&mut self) -> Result<Option<Sample>, SourceError> {
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

#[test]
fn a_blocking_feed_yields_every_full_window_with_both_modalities() {
    let feed = SourceFeed::spawn(Box::new(ListSource::steady(10)), 4, ChannelPolicy::Block);
    let stream = WindowStream::new(feed, spec(), Timestamp::ZERO).unwrap();
    let windows: Vec<Window> = stream.map(Result::unwrap).collect();
    let full: Vec<&Window> = windows
        .iter()
        .filter(|w| w.imu.is_some() && w.video.is_some())
        .collect();
    // 10 s of data (last IMU sample at 9.96 s), 2 s windows every 1 s. The window at
    // 8 s needs a sample after its last grid point (9.98 s) to interpolate it, and the
    // aligner never extrapolates: its IMU is absent, so starts 0..=7 are full.
    assert_eq!(
        full.len(),
        8,
        "windows: {:?}",
        windows
            .iter()
            .map(|w| (w.start, w.present()))
            .collect::<Vec<_>>()
    );
    assert!(full.iter().all(|w| w.imu.as_ref().unwrap().len == 50));
    assert!(full
        .iter()
        .all(|w| w.video.as_ref().unwrap().frames.len() == 4));
}

#[test]
fn drop_oldest_counts_what_it_drops_and_keeps_the_newest() {
    let total = ListSource::steady(4).samples.len() as u64;
    let mut feed = SourceFeed::spawn(
        Box::new(ListSource::steady(4)),
        3,
        ChannelPolicy::DropOldest,
    );
    feed.join().unwrap();
    let kept: Vec<Sample> = feed.rx.try_iter().collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(feed.dropped(), total - 3);
    let last = ListSource::steady(4).samples.back().unwrap().t();
    assert_eq!(kept.last().unwrap().t(), last);
}
