//! Safety limits as the rules see them: configured defaults, per-company
//! overrides, and the effective limits that result. No IO here.

use std::collections::BTreeMap;

/// The configured limits every company starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitDefaults {
    /// All action types together, in the last 60 minutes.
    pub per_hour: u32,
    /// All action types together, in the last 24 hours.
    pub per_day: u32,
    /// One action type, in the last 60 minutes, unless overridden.
    pub type_per_hour: u32,
    /// One action type, in the last 24 hours, unless overridden.
    pub type_per_day: u32,
}

/// What a limit override applies to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Every action of the company.
    Company,
    /// Any action type without its own override.
    DefaultType,
    /// One action type.
    Type(String),
}

/// Longest action type name (the source's `action_type` is VARCHAR(50)).
pub const MAX_ACTION_TYPE_LEN: usize = 50;

impl Scope {
    /// The value stored in `safety_limit.scope`.
    pub fn key(&self) -> &str {
        match self {
            Self::Company => "",
            Self::DefaultType => "*",
            Self::Type(t) => t,
        }
    }

    pub fn from_key(key: &str) -> Self {
        match key {
            "" => Self::Company,
            "*" => Self::DefaultType,
            t => Self::Type(t.to_owned()),
        }
    }
}

/// One stored override; `None` keeps the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub scope: Scope,
    pub per_hour: Option<u32>,
    pub per_day: Option<u32>,
}

/// The limits in force for one company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveLimits {
    pub per_hour: u32,
    pub per_day: u32,
    pub type_per_hour: u32,
    pub type_per_day: u32,
    /// Action types with their own limits: (per hour, per day).
    pub types: BTreeMap<String, (u32, u32)>,
    pub overridden: bool,
}

impl EffectiveLimits {
    /// Merges `overrides` over `defaults`. A type override without a value for a
    /// window takes the company's default per-type value for it.
    pub fn resolve(defaults: LimitDefaults, overrides: &[Override]) -> Self {
        let mut limits = Self {
            per_hour: defaults.per_hour,
            per_day: defaults.per_day,
            type_per_hour: defaults.type_per_hour,
            type_per_day: defaults.type_per_day,
            types: BTreeMap::new(),
            overridden: !overrides.is_empty(),
        };
        for o in overrides {
            match &o.scope {
                Scope::Company => {
                    limits.per_hour = o.per_hour.unwrap_or(limits.per_hour);
                    limits.per_day = o.per_day.unwrap_or(limits.per_day);
                }
                Scope::DefaultType => {
                    limits.type_per_hour = o.per_hour.unwrap_or(limits.type_per_hour);
                    limits.type_per_day = o.per_day.unwrap_or(limits.type_per_day);
                }
                Scope::Type(_) => {}
            }
        }
        for o in overrides {
            if let Scope::Type(t) = &o.scope {
                limits.types.insert(t.clone(), (o.per_hour.unwrap_or(limits.type_per_hour), o.per_day.unwrap_or(limits.type_per_day)));
            }
        }
        limits
    }
}

/// Why a set of overrides cannot be stored; names the offending field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

/// Checks a limit value given through the API.
pub fn parse_limit(field: &str, value: Option<i32>) -> Result<Option<u32>, Invalid> {
    match value {
        None => Ok(None),
        Some(v) if v < 0 => Err(Invalid { field: field.to_owned(), message: format!("must not be negative, got {v}") }),
        Some(v) => Ok(Some(v as u32)),
    }
}

/// Checks an action type name: free text on one line (no control
/// character), 1..=50 characters, not a reserved scope.
pub fn parse_action_type(field: &str, value: &str) -> Result<String, Invalid> {
    let t = value.trim();
    let invalid = |message: String| Invalid { field: field.to_owned(), message };
    if t.is_empty() {
        return Err(invalid("must not be empty".to_owned()));
    }
    if t.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters".to_owned()));
    }
    if t.chars().count() > MAX_ACTION_TYPE_LEN {
        return Err(invalid(format!("must be at most {MAX_ACTION_TYPE_LEN} characters")));
    }
    if t == "*" {
        return Err(invalid("\"*\" is reserved".to_owned()));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: LimitDefaults = LimitDefaults { per_hour: 50, per_day: 500, type_per_hour: 20, type_per_day: 200 };

    #[test]
    fn defaults_apply_without_overrides() {
        let l = EffectiveLimits::resolve(DEFAULTS, &[]);
        assert_eq!((l.per_hour, l.per_day, l.type_per_hour, l.type_per_day), (50, 500, 20, 200));
        assert!(!l.overridden);
    }

    #[test]
    fn overrides_replace_only_what_they_set() {
        let l = EffectiveLimits::resolve(
            DEFAULTS,
            &[
                Override { scope: Scope::Type("reassign".into()), per_hour: Some(3), per_day: None },
                Override { scope: Scope::Company, per_hour: Some(10), per_day: None },
                Override { scope: Scope::DefaultType, per_hour: None, per_day: Some(30) },
            ],
        );
        assert_eq!((l.per_hour, l.per_day), (10, 500));
        assert_eq!((l.type_per_hour, l.type_per_day), (20, 30));
        assert_eq!(l.types["reassign"], (3, 30), "a type's missing window takes the company's per-type default");
    }

    #[test]
    fn bad_values_name_their_field() {
        assert_eq!(parse_limit("x", Some(-1)).unwrap_err().field, "x");
        assert_eq!(parse_limit("x", Some(0)).unwrap(), Some(0));
        assert!(parse_action_type("t", " ").is_err());
        assert!(parse_action_type("t", &"a".repeat(51)).is_err());
        assert!(parse_action_type("t", "*").is_err());
        assert_eq!(parse_action_type("t", " reassign ").unwrap(), "reassign");
    }

    #[test]
    fn scopes_round_trip_through_their_keys() {
        for s in [Scope::Company, Scope::DefaultType, Scope::Type("swap".into())] {
            assert_eq!(Scope::from_key(s.key()), s);
        }
    }
}
