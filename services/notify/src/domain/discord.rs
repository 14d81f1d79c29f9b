//! Discord's limits on one message's embed, and fitting a notification into
//! them: what Discord refuses is cut here, never by Discord.

use crate::domain::notification::Field;

/// Discord's limits on one message's embed.
pub mod limits {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    /// Title, description, field names and values together.
    pub const TOTAL: usize = 6000;
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Title, description and fields cut to Discord's limits: each part to its own,
/// then fields dropped from the end and the description shortened until the
/// whole embed fits in 6,000 characters.
pub fn fit(title: &str, description: &str, fields: &[Field]) -> (String, String, Vec<Field>) {
    let title = truncate(title, limits::TITLE);
    let mut description = truncate(description, limits::DESCRIPTION);
    let mut fields: Vec<Field> = fields
        .iter()
        .take(limits::FIELDS)
        .map(|f| Field {
            name: truncate(if f.name.is_empty() { "-" } else { &f.name }, limits::FIELD_NAME),
            value: truncate(if f.value.is_empty() { "-" } else { &f.value }, limits::FIELD_VALUE),
            inline: f.inline,
        })
        .collect();
    let size = |d: &str, fs: &[Field]| {
        title.chars().count() + d.chars().count() + fs.iter().map(|f| f.name.chars().count() + f.value.chars().count()).sum::<usize>()
    };
    while size(&description, &fields) > limits::TOTAL {
        let over = size(&description, &fields) - limits::TOTAL;
        let len = description.chars().count();
        if len > 100 {
            description = truncate(&description, len.saturating_sub(over).max(100));
        } else if fields.pop().is_none() {
            description = truncate(&description, len.saturating_sub(over));
        }
    }
    (title, description, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_limits_are_respected() {
        let fields: Vec<Field> = (0..30).map(|i| Field { name: format!("f{i}"), value: "v".repeat(1500), inline: false }).collect();
        let (t, d, f) = fit(&"t".repeat(300), &"d".repeat(5000), &fields);
        assert_eq!(t.chars().count(), 256);
        assert!(t.ends_with('…'));
        assert!(f.len() <= 25 && f.iter().all(|x| x.value.chars().count() <= 1024));
        let total =
            t.chars().count() + d.chars().count() + f.iter().map(|x| x.name.chars().count() + x.value.chars().count()).sum::<usize>();
        assert!(total <= 6000, "{total}");
        let (t, d, f) = fit("short", "small", &fields[..2]);
        assert_eq!((t.as_str(), d.as_str(), f.len()), ("short", "small", 2));
    }
}
