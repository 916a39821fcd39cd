//! Progress bars on stderr (hidden when stderr is not a terminal).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// Draws one bar or spinner per engine stage.
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
    /// Whether stderr is a terminal. When it is not, no bar is made at all: a hidden
    /// one would draw nothing, but a spinner's steady tick still starts a thread
    /// (three in a day's `dengta ingest`, about 0.3 ms of its 15).
    shown: bool,
}

impl Bars {
    pub fn new() -> Bars {
        use std::io::IsTerminal;
        Bars { current: Mutex::new(None), shown: std::io::stderr().is_terminal() }
    }

    pub fn finish(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some(bar) = current.take()
        {
            bar.finish_and_clear();
        }
    }
}

impl dengta_engine::Progress for Bars {
    fn stage(&self, name: &str, total: Option<u64>) {
        if !self.shown {
            return;
        }
        let Ok(mut current) = self.current.lock() else { return };
        if let Some(bar) = current.take() {
            bar.finish_and_clear();
        }
        let bar = match total {
            Some(n) => {
                let bar = ProgressBar::new(n);
                bar.set_style(
                    ProgressStyle::with_template("{msg:>38} [{bar:30}] {pos}/{len} ({eta})")
                        .expect("the template is valid")
                        .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(ProgressStyle::with_template("{spinner} {msg} {pos}").expect("the template is valid"));
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            }
        };
        bar.set_message(name.to_string());
        *current = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Ok(current) = self.current.lock()
            && let Some(bar) = current.as_ref()
        {
            bar.inc(n);
        }
    }
}
