//! Progress bars for the command: shown only for work that takes a while,
//! only on a terminal, and always cleared.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on standard error that appears only once the work has
/// taken longer than `after`, never when quiet or not on a terminal, and is
/// cleared when dropped, whether the work finished or failed.
pub struct Bar {
    bar: ProgressBar,
    show: bool,
    started: Instant,
    after: Duration,
}

impl Bar {
    pub fn new(template: &str, after: Duration, quiet: bool) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        Bar {
            bar,
            show: !quiet && std::io::stderr().is_terminal(),
            started: Instant::now(),
            after,
        }
    }

    pub fn set(&self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        if self.show && self.bar.is_hidden() && self.started.elapsed() > self.after {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    pub fn charts(quiet: bool) -> Bar {
        Bar::new(
            "{elapsed_precise} [{bar:40}] {pos}/{len} charts",
            Duration::from_secs(1),
            quiet,
        )
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
