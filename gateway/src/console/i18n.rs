//! The console's languages: one Fluent catalogue per language
//! (`gateway/i18n/<lang>.ftl`, compiled into the binary), keyed by message id.
//! The API's error codes are message ids too (`error-<code>`), so an error is
//! translated by its code and field, never by parsing its English text.

use std::sync::LazyLock;

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};

/// A language of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Locale {
    Fr,
    En,
}

impl Locale {
    pub const ALL: [Self; 2] = [Self::Fr, Self::En];

    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The language named by a code such as `fr`, `fr-CH` or `en_GB`.
    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header: the first
    /// by quality that we have, English when none is.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else { return Self::En };
        let mut ranked: Vec<(f32, usize, Self)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut fields = part.split(';');
                let locale = Self::parse(fields.next()?)?;
                let q = fields
                    .find_map(|f| f.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                    .filter(|q| (0.0..=1.0).contains(q))?;
                (q > 0.0).then_some((q, i, locale))
            })
            .collect();
        // Highest quality first; the header's order breaks ties.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map_or(Self::En, |r| r.2)
    }

    fn source(self) -> &'static str {
        match self {
            Self::Fr => include_str!("../../i18n/fr.ftl"),
            Self::En => include_str!("../../i18n/en.ftl"),
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(locale: Locale) -> Bundle {
    let resource = FluentResource::try_new(locale.source().to_owned())
        .unwrap_or_else(|(_, errors)| panic!("the {} catalogue does not parse: {errors:?}", locale.code()));
    let id = locale.code().parse().expect("a valid language identifier");
    let mut bundle = Bundle::new_concurrent(vec![id]);
    // The console renders into HTML and SVG, where bidi isolation marks are noise.
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).unwrap_or_else(|errors| panic!("the {} catalogue repeats ids: {errors:?}", locale.code()));
    bundle
}

static FR: LazyLock<Bundle> = LazyLock::new(|| bundle(Locale::Fr));
static EN: LazyLock<Bundle> = LazyLock::new(|| bundle(Locale::En));

fn of(locale: Locale) -> &'static Bundle {
    match locale {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

/// The message `id` in `locale`, with `args`; the id itself when the
/// catalogue lacks it (a test keeps every id used by the code in both).
pub fn text(locale: Locale, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let bundle = of(locale);
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::warn!(id, locale = locale.code(), "message missing from the catalogue");
        return id.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, (!args.is_empty()).then_some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(id, locale = locale.code(), ?errors, "message formatted with errors");
    }
    out.into_owned()
}

/// Whether the catalogue of `locale` has the message `id`.
pub fn has(locale: Locale, id: &str) -> bool {
    of(locale).has_message(id)
}

/// Every message id of `locale`'s catalogue (the lines `id = …`), for the
/// tests that keep the catalogues in step.
#[cfg(test)]
pub fn ids(locale: Locale) -> Vec<&'static str> {
    locale
        .source()
        .lines()
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id))
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_we_have() {
        assert_eq!(Locale::negotiate(Some("fr-CH, fr;q=0.9, en;q=0.8")), Locale::Fr);
        assert_eq!(Locale::negotiate(Some("de-CH, en;q=0.5, fr;q=0.7")), Locale::Fr);
        assert_eq!(Locale::negotiate(Some("de-CH, en-GB;q=0.9")), Locale::En);
        assert_eq!(Locale::negotiate(Some("fr;q=0, en")), Locale::En, "q=0 means not wanted");
        assert_eq!(Locale::negotiate(Some("it")), Locale::En);
        assert_eq!(Locale::negotiate(None), Locale::En);
        assert_eq!(Locale::negotiate(Some("fr;q=banana, en")), Locale::En, "a bad quality drops that entry");
    }

    #[test]
    fn messages_take_their_arguments() {
        assert_eq!(text(Locale::Fr, "nav-board", &[]), "Tableau");
        let args = [("count", FluentValue::from(3))];
        assert!(text(Locale::En, "board-unassigned-count", &args).contains('3'));
    }

    /// Every message id the console's code and templates name literally, and
    /// every word of the vocabularies they name by prefix, is in both catalogues.
    #[test]
    fn every_message_the_console_shows_is_in_both_catalogues() {
        use crate::console::timeline::{self, DRIVER_STATUSES};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["src/console", "templates", "templates/partials"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for text in &sources {
            for call in ["t(\"", "t_with(\"", "count(\"", "tk(\""] {
                for (at, _) in text.match_indices(call) {
                    // `t(` itself, not the end of `insert(`.
                    if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[at + call.len()..];
                    let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
                    if rest[id.len()..].starts_with('"') && !id.is_empty() {
                        // `tk("status", …)` names a vocabulary, checked below.
                        if call != "tk(\"" {
                            ids.insert(id);
                        }
                    }
                }
            }
        }
        let rules = [
            "unreachable",
            "wrong_vehicle",
            "outside_window",
            "over_capacity",
            "ride_too_long",
            "after_appointment",
            "after_shift",
            "picked_up_twice",
            "not_picked_up",
            "never_dropped_off",
            "not_planned",
            "half_planned",
            "planned_twice",
            "two_routes",
            "unknown_route",
            "unknown_stop",
        ];
        let vocabularies: [(&str, &[&str]); 9] = [
            ("violation", &rules),
            ("action", &["unspecified", "reassign", "swap", "delay", "notify_dispatcher"]),
            ("reason-why", &["unspecified", "reassign", "swap", "delay", "notify_dispatcher"]),
            ("suggestion", &["unspecified", "open", "blocked", "safety_unavailable", "executed", "expired", "accepted", "dismissed"]),
            ("status", &timeline::BOOKING_STATUSES),
            ("mobility", &timeline::MOBILITIES),
            ("vehicle", &timeline::VEHICLE_KINDS),
            ("driver-status", &DRIVER_STATUSES),
            ("reason", &["no_vehicle_of_kind", "capacity", "time_window", "ride_time", "shift", "fleet_full", "not_planned"]),
        ];
        for (prefix, words) in vocabularies {
            ids.extend(words.iter().map(|w| format!("{prefix}-{w}")));
        }
        for kind in ["clients", "drivers"] {
            ids.extend(["new", "title", "count", "detail", "tag"].map(|k| format!("{kind}-{k}")));
        }
        assert!(ids.len() > 150, "the sources were read ({} ids)", ids.len());
        for locale in Locale::ALL {
            let missing: Vec<_> = ids.iter().filter(|id| !has(locale, id)).collect();
            assert!(missing.is_empty(), "missing from the {} catalogue: {missing:?}", locale.code());
        }
    }

    #[test]
    fn both_catalogues_have_the_same_messages() {
        let (mut fr, mut en) = (ids(Locale::Fr), ids(Locale::En));
        fr.sort_unstable();
        en.sort_unstable();
        let missing_in_en: Vec<_> = fr.iter().filter(|id| en.binary_search(id).is_err()).collect();
        let missing_in_fr: Vec<_> = en.iter().filter(|id| fr.binary_search(id).is_err()).collect();
        assert!(missing_in_en.is_empty() && missing_in_fr.is_empty(), "only in fr: {missing_in_en:?}; only in en: {missing_in_fr:?}");
        assert!(fr.len() > 50, "the catalogues were read");
    }
}
