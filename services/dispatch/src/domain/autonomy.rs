//! The autonomous manager's vocabulary: a company's mode and a corrective
//! action it proposes.

use chrono::{DateTime, Utc};

use kit::stored::UnknownValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Off,
    Suggest,
    Autonomous,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "suggest" => Some(Self::Suggest),
            "autonomous" => Some(Self::Autonomous),
            _ => None,
        }
    }

    /// The mode stored in settings row `row_id`: an unknown one is an error.
    pub fn stored(row_id: i64, s: &str) -> Result<Self, UnknownValue> {
        Self::parse(s).ok_or_else(|| UnknownValue::new("autonomy_settings", "mode", row_id, s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Suggest => "suggest",
            Self::Autonomous => "autonomous",
        }
    }
}

/// A corrective action the manager proposes (stored as a suggestion).
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub kind: &'static str,
    pub booking_id: i64,
    pub from_driver_id: Option<i64>,
    pub to_driver_id: Option<i64>,
    pub other_booking_id: Option<i64>,
    pub description: String,
    pub confidence: f64,
    pub improvement_minutes: f64,
    /// For a delay: the new planned pickup and drop-off.
    pub retime: Option<(DateTime<Utc>, DateTime<Utc>)>,
}
