//! SQLite's line of writers: one writer at a time in this process, requests before background
//! work.
//!
//! SQLite lets one connection write at a time. Writers that find the file locked sleep in its
//! busy handler (backing off for up to 100 ms at a time, and letting a lucky newcomer overtake
//! writers that waited longer), so every writer of this process waits here instead, before
//! `BEGIN IMMEDIATE` or a lone write, and starts the moment the one before it is done.
//!
//! The line has two lanes. A request's write (a booking's hold, a quote's row) goes before the
//! background's (the outbox relay, job workers and what their handlers write), so a burst of
//! notification jobs does not stand between a guest and their booking; but while background
//! writers wait, at most [`REQUEST_STREAK`] request writes go in a row, so the background still
//! keeps moving under a steady stream of requests. Code runs as background by being inside
//! [`in_background`].

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

/// Request writes that may go in a row while a background writer waits.
pub(crate) const REQUEST_STREAK: u32 = 16;

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `work` with every write it makes waiting in the background lane.
pub async fn in_background<F: Future>(work: F) -> F::Output {
    BACKGROUND.scope((), work).await
}

/// Which lane the current task's writes wait in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// A request's write.
    Request,
    /// Background work's write.
    Background,
}

impl Lane {
    /// The lane of the task this runs in.
    pub(crate) fn current() -> Self {
        if BACKGROUND.try_with(|()| ()).is_ok() {
            Lane::Background
        } else {
            Lane::Request
        }
    }
}

/// The line (one per SQLite database).
#[derive(Debug)]
pub(crate) struct Line {
    state: Mutex<State>,
    /// How long a writer waits before it gives up, as SQLite's busy timeout would.
    patience: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// Someone holds the turn. False only while both lanes are empty.
    busy: bool,
    requests: VecDeque<oneshot::Sender<WriteTurn>>,
    background: VecDeque<oneshot::Sender<WriteTurn>>,
    /// Request turns given in a row since the background last had one.
    streak: u32,
}

/// A writer's turn, handed to the next in line when dropped. An empty turn (PostgreSQL, whose
/// writers need no line) holds nothing.
#[derive(Debug)]
#[must_use = "the turn ends when it is dropped"]
pub struct WriteTurn {
    line: Option<Arc<Line>>,
}

/// Waited in line longer than the line's patience.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimedOut;

impl WriteTurn {
    /// A turn that holds nothing.
    pub(crate) fn none() -> Self {
        WriteTurn { line: None }
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.hand_on();
        }
    }
}

impl Line {
    pub(crate) fn new(patience: Duration) -> Arc<Self> {
        Arc::new(Line {
            state: Mutex::new(State::default()),
            patience,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        let state = self.state();
        state.requests.len() + state.background.len()
    }

    /// Waits for a turn in `lane`.
    pub(crate) async fn take(self: &Arc<Self>, lane: Lane) -> Result<WriteTurn, TimedOut> {
        let waiting = {
            let mut state = self.state();
            if !state.busy {
                state.busy = true;
                return Ok(WriteTurn {
                    line: Some(self.clone()),
                });
            }
            let (tx, rx) = oneshot::channel();
            match lane {
                Lane::Request => state.requests.push_back(tx),
                Lane::Background => state.background.push_back(tx),
            }
            rx
        };
        // A sender is dropped unsent only with the line, which this `Arc` keeps alive; a turn
        // sent just as the wait timed out is dropped with the receiver and so handed on.
        match tokio::time::timeout(self.patience, waiting).await {
            Ok(Ok(turn)) => Ok(turn),
            Ok(Err(_)) | Err(_) => Err(TimedOut),
        }
    }

    /// Gives the turn to the next writer: a request's unless the background has waited through
    /// a full streak of them.
    fn hand_on(self: &Arc<Self>) {
        loop {
            let next = {
                let mut state = self.state();
                let background_due = !state.background.is_empty()
                    && (state.requests.is_empty() || state.streak >= REQUEST_STREAK);
                let next = if background_due {
                    state.streak = 0;
                    state.background.pop_front()
                } else {
                    state.streak = state.streak.saturating_add(1);
                    state.requests.pop_front()
                };
                match next {
                    Some(next) => next,
                    None => {
                        state.busy = false;
                        state.streak = 0;
                        return;
                    }
                }
            };
            match next.send(WriteTurn {
                line: Some(self.clone()),
            }) {
                Ok(()) => return,
                // That writer gave up waiting: the turn goes to the one after it.
                Err(mut unsent) => unsent.line = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;

    /// Queues writers behind a held turn, in the given lanes and order, then lets them go one
    /// by one; returns the order in which they got their turn.
    async fn order_of(lanes: &[Lane]) -> Vec<usize> {
        let line = Line::new(Duration::from_secs(10));
        let first = line.take(Lane::Request).await.expect("a free line");
        let order = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, lane) in lanes.iter().copied().enumerate() {
            let (mine, order) = (line.clone(), order.clone());
            let work = async move {
                let turn = mine.take(Lane::current()).await.expect("a turn");
                order.lock().expect("order").push(i);
                tokio::task::yield_now().await;
                drop(turn);
            };
            tasks.push(tokio::spawn(async move {
                match lane {
                    Lane::Request => work.await,
                    Lane::Background => in_background(work).await,
                }
            }));
            // Each is in line before the next arrives.
            while line.waiting() <= i {
                tokio::task::yield_now().await;
            }
        }
        drop(first);
        for task in tasks {
            task.await.expect("writer");
        }
        let order = order.lock().expect("order").clone();
        order
    }

    #[tokio::test]
    async fn requests_go_before_background_writers_that_came_first() {
        use Lane::{Background as B, Request as R};
        assert_eq!(order_of(&[B, B, R, R]).await, vec![2, 3, 0, 1]);
    }

    #[tokio::test]
    async fn the_background_gets_a_turn_after_a_streak_of_requests() {
        use Lane::{Background as B, Request as R};
        let mut lanes = vec![B];
        lanes.extend(std::iter::repeat_n(R, 2 * REQUEST_STREAK as usize));
        let order = order_of(&lanes).await;
        let background_at = order.iter().position(|&i| i == 0).expect("served");
        assert_eq!(background_at, REQUEST_STREAK as usize, "{order:?}");
    }

    #[tokio::test]
    async fn a_writer_that_gave_up_does_not_hold_up_the_line() {
        let line = Line::new(Duration::from_millis(20));
        let held = line.take(Lane::Request).await.expect("a free line");
        assert!(line.take(Lane::Request).await.is_err(), "timed out");
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(5), line.take(Lane::Request))
            .await
            .expect("the turn came back")
            .expect("a turn");
        drop(again);
        assert!(!line.state().busy);
    }
}
