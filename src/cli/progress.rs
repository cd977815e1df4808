//! The progress bars of the long offline steps (synth, embed, bench cl): one look for
//! all of them, drawn on stderr (indicatif hides them when stderr is not a terminal),
//! and hidden outright under `--json` so a script sees only its document.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `what`; hidden when `hidden` (the command's `--json`).
pub fn bar(len: u64, what: &str, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:24} [{bar:30}] {pos}/{len} {elapsed} (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
