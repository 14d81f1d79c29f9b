//! What the admission engine remembers of a company's windows: its counted
//! actions of the last 24 hours, per company and per action type, so that
//! every window count is a binary search. In memory only; the batch loads it
//! from the store and keeps it while the chain head stays where it left it.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::domain::{
    limits::EffectiveLimits,
    windows::{Counts, LimitScope, Usage, Window, slot_frees_at},
};

/// The counted (authorized or succeeded) actions of a company's last 24 hours,
/// oldest first, as of chain position `seq`: per company and per action type, so
/// every window count is a binary search.
#[derive(Clone)]
pub struct WindowState {
    pub seq: i64,
    /// The chain head's hash at `seq`.
    pub hash: String,
    /// (created_at, chain_seq)
    company: VecDeque<(DateTime<Utc>, i64)>,
    by_type: HashMap<String, VecDeque<(DateTime<Utc>, i64)>>,
}

impl WindowState {
    /// The window at chain position `seq` (hash `hash`), from the counted
    /// actions' (chain position, action type, created_at), oldest first.
    pub fn from_rows(seq: i64, hash: String, rows: Vec<(i64, String, DateTime<Utc>)>) -> Self {
        let mut state = Self { seq, hash, company: VecDeque::with_capacity(rows.len()), by_type: HashMap::new() };
        for (row_seq, action_type, at) in rows {
            state.push(&action_type, at, row_seq);
        }
        state
    }

    fn push(&mut self, action_type: &str, at: DateTime<Utc>, seq: i64) {
        self.company.push_back((at, seq));
        self.by_type.entry(action_type.to_owned()).or_default().push_back((at, seq));
    }

    /// Forgets what left the 24-hour window.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let start = Window::Day.start(now);
        while self.company.front().is_some_and(|(at, _)| *at <= start) {
            self.company.pop_front();
        }
        self.by_type.retain(|_, q| {
            while q.front().is_some_and(|(at, _)| *at <= start) {
                q.pop_front();
            }
            !q.is_empty()
        });
    }

    fn in_window(q: &VecDeque<(DateTime<Utc>, i64)>, window: Window, now: DateTime<Utc>) -> u32 {
        let start = window.start(now);
        (q.len() - q.partition_point(|(at, _)| *at <= start)) as u32
    }

    pub fn usages(&self, limits: &EffectiveLimits, action_type: &str, now: DateTime<Utc>) -> [Usage; 4] {
        let empty = VecDeque::new();
        let typed = self.by_type.get(action_type).unwrap_or(&empty);
        let counts = Counts {
            company: [Self::in_window(&self.company, Window::Hour, now), Self::in_window(&self.company, Window::Day, now)],
            by_type: HashMap::from([(
                action_type.to_owned(),
                [Self::in_window(typed, Window::Hour, now), Self::in_window(typed, Window::Day, now)],
            )]),
        };
        counts.usages(limits, action_type)
    }

    pub fn admit(&mut self, action_type: &str, now: DateTime<Utc>, seq: i64) {
        self.push(action_type, now, seq);
    }

    /// A failed action leaves the windows (it was counted while in flight).
    pub fn release(&mut self, seq: i64, action_type: &str, created_at: DateTime<Utc>) {
        let remove = |q: &mut VecDeque<(DateTime<Utc>, i64)>| {
            let from = q.partition_point(|(at, _)| *at < created_at);
            if let Some(pos) = q.iter().skip(from).position(|(_, s)| *s == seq) {
                q.remove(from + pos);
            }
        };
        remove(&mut self.company);
        if let Some(q) = self.by_type.get_mut(action_type) {
            remove(q);
        }
    }

    /// When every full window among `usages` has a free slot again, if ever.
    pub fn frees_at(&self, usages: &[Usage], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut latest: Option<DateTime<Utc>> = None;
        for u in usages.iter().filter(|u| u.is_full()) {
            let rows: Vec<(&str, DateTime<Utc>)> = match &u.scope {
                LimitScope::Company => self.company.iter().map(|(at, _)| ("", *at)).collect(),
                LimitScope::Type(t) => self.by_type.get(t).map(|q| q.iter().map(|(at, _)| (t.as_str(), *at)).collect()).unwrap_or_default(),
            };
            let frees = slot_frees_at(rows, u, now)?;
            latest = Some(latest.map_or(frees, |l| l.max(frees)));
        }
        latest
    }
}
