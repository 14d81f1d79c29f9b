//! The vocabularies of a bug (severity, priority, status) and the status life
//! cycle: which moves are allowed and when a bug carries a resolve time.

use chrono::{DateTime, Utc};

/// The ordered vocabularies (severity, priority): stored as a rank so they sort.
pub trait Ranked: Sized + Copy + 'static {
    const ALL: &'static [Self];

    /// The stored rank (1 = lowest), which is also the proto enum number.
    fn rank(self) -> i16;

    fn label(self) -> &'static str;

    fn from_rank(rank: i32) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| i32::from(v.rank()) == rank)
    }
}

macro_rules! ranked {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $rank:literal : $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant = $rank),+ }

        impl Ranked for $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];

            fn rank(self) -> i16 {
                self as i16
            }

            fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }
    };
}

ranked!(
    /// How bad a bug is.
    Severity { Low = 1: "low", Medium = 2: "medium", High = 3: "high", Critical = 4: "critical" }
);
ranked!(
    /// How soon it should be fixed.
    Priority { Low = 1: "low", Medium = 2: "medium", High = 3: "high", Urgent = 4: "urgent" }
);

/// Where a bug is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BugStatus {
    Open,
    InProgress,
    Resolved,
    Closed,
    WontFix,
    Duplicate,
}

impl BugStatus {
    pub const ALL: &'static [BugStatus] =
        &[BugStatus::Open, BugStatus::InProgress, BugStatus::Resolved, BugStatus::Closed, BugStatus::WontFix, BugStatus::Duplicate];

    pub fn label(self) -> &'static str {
        match self {
            BugStatus::Open => "open",
            BugStatus::InProgress => "in_progress",
            BugStatus::Resolved => "resolved",
            BugStatus::Closed => "closed",
            BugStatus::WontFix => "wont_fix",
            BugStatus::Duplicate => "duplicate",
        }
    }

    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.label() == label)
    }

    /// Open or in progress: still someone's work. Everything else is done with,
    /// and carries the time it stopped being active (`resolved_at`).
    pub fn is_active(self) -> bool {
        matches!(self, BugStatus::Open | BugStatus::InProgress)
    }

    /// Fixed: what the mean time to resolve is measured over, and what a new
    /// occurrence turns into a regression.
    pub fn is_fixed(self) -> bool {
        matches!(self, BugStatus::Resolved | BugStatus::Closed)
    }
}

/// Whether a bug may go from `from` to `to`. Any bug may become active again
/// (reopened); an active bug may end in any way; among ended states only a
/// resolved bug may be closed — anything else must be reopened first.
pub fn check_transition(from: BugStatus, to: BugStatus) -> Result<(), String> {
    if from == to || to.is_active() || from.is_active() || (from == BugStatus::Resolved && to == BugStatus::Closed) {
        Ok(())
    } else {
        Err(format!("a {} bug cannot become {}; reopen it first", from.label(), to.label()))
    }
}

/// The `resolved_at` a bug has after moving to `to`: set when it stops being
/// active, kept while it stays ended, cleared when it comes back.
pub fn resolved_at_after(from: BugStatus, to: BugStatus, current: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match (from.is_active(), to.is_active()) {
        (_, true) => None,
        (true, false) => Some(now),
        (false, false) => current.or(Some(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use BugStatus::*;
        for &from in BugStatus::ALL {
            assert!(check_transition(from, Open).is_ok(), "{from:?} can always be reopened");
            assert!(check_transition(from, from).is_ok());
        }
        assert!(check_transition(Open, Duplicate).is_ok());
        assert!(check_transition(InProgress, WontFix).is_ok());
        assert!(check_transition(Resolved, Closed).is_ok());
        assert!(check_transition(Closed, Resolved).is_err());
        assert!(check_transition(WontFix, Resolved).is_err());
        assert!(check_transition(Duplicate, Closed).is_err());
    }

    #[test]
    fn resolved_at_follows_the_active_set() {
        let (t1, t2) = (DateTime::from_timestamp(10, 0).unwrap(), DateTime::from_timestamp(20, 0).unwrap());
        assert_eq!(resolved_at_after(BugStatus::Open, BugStatus::Resolved, None, t1), Some(t1));
        assert_eq!(resolved_at_after(BugStatus::Resolved, BugStatus::Closed, Some(t1), t2), Some(t1));
        assert_eq!(resolved_at_after(BugStatus::Closed, BugStatus::Open, Some(t1), t2), None);
    }
}
