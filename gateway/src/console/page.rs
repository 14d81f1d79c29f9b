//! What every page's layout (`templates/base.html`) reads: the language, the
//! signed-in user and the navigation their role opens, the CSRF token htmx
//! sends with every request, and the asset paths.

use kit::auth::Role;

use super::{assets, context::Console, format::Fmt, i18n::Locale};

/// A link of the navigation bar.
#[derive(Clone, Debug)]
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// A group of the navigation bar: the day's work, or the company's
/// administration and the platform's health.
#[derive(Clone, Debug)]
pub struct NavGroup {
    /// Empty for the first group, which needs no heading.
    pub label: String,
    pub items: Vec<NavItem>,
}

/// The layout's data, built once per page.
#[derive(Clone, Debug)]
pub struct Page {
    pub fmt: Fmt,
    pub title: String,
    /// Empty before sign-in.
    pub email: String,
    pub csrf: String,
    pub nav: Vec<NavGroup>,
    /// Page-specific script modules (logical asset names).
    pub scripts: Vec<&'static str>,
}

/// A navigation group: its heading's message id (empty: none) and its pages.
type Section = (&'static str, &'static [(&'static str, &'static str)]);

/// The pages each role reaches, by group, in the order of the navigation bar.
fn sections(role: Role) -> &'static [Section] {
    const DISPATCH: &[(&str, &str)] = &[
        ("/board", "nav-board"),
        ("/map", "nav-map"),
        ("/bookings", "nav-bookings"),
        ("/clients", "nav-clients"),
        ("/drivers", "nav-drivers"),
        ("/templates", "nav-templates"),
        ("/manifest", "nav-manifest"),
        ("/autonomy", "nav-autonomy"),
    ];
    /// What the company's admin reviews and keeps healthy.
    const ADMIN: &[(&str, &str)] = &[
        ("/admin/actions", "nav-actions"),
        ("/admin/limits", "nav-limits"),
        ("/admin/users", "nav-users"),
        ("/admin/company", "nav-company"),
        ("/admin/audit-log", "nav-audit-log"),
        ("/status", "nav-status"),
        ("/admin/notifications", "nav-notifications"),
        ("/admin/drift", "nav-drift"),
        ("/bugs", "nav-bugs"),
    ];
    match role {
        Role::Admin => &[("", DISPATCH), ("nav-admin", ADMIN)],
        Role::Dispatcher => &[("", DISPATCH), ("", &[("/bugs", "nav-bugs")])],
        Role::Reporter => &[("", &[("/bugs", "nav-bugs")])],
        Role::Driver => &[("", &[("/driver", "nav-driver")])],
        Role::Service | Role::Operator => &[],
    }
}

impl Page {
    /// A page of the signed-in console; `current` is the navigation path it belongs to.
    pub fn new(console: &Console, current: &str, title_id: &str) -> Self {
        let fmt = console.fmt;
        let nav = sections(console.role)
            .iter()
            .map(|&(label, items)| NavGroup {
                label: if label.is_empty() { String::new() } else { fmt.t(label) },
                items: items.iter().map(|&(href, id)| NavItem { href, label: fmt.t(id), current: href == current }).collect(),
            })
            .collect();
        Self { fmt, title: fmt.t(title_id), email: console.email.clone(), csrf: console.csrf.clone(), nav, scripts: Vec::new() }
    }

    /// A page shown before sign-in.
    pub fn public(locale: Locale, title_id: &str) -> Self {
        let fmt = Fmt { locale, tz: chrono_tz::Europe::Zurich };
        Self { fmt, title: fmt.t(title_id), email: String::new(), csrf: String::new(), nav: Vec::new(), scripts: Vec::new() }
    }

    pub fn with_script(mut self, logical: &'static str) -> Self {
        self.scripts.push(logical);
        self
    }

    pub fn lang(&self) -> &'static str {
        self.fmt.locale.code()
    }

    /// The message `id` in the page's language.
    pub fn t(&self, id: &str) -> String {
        self.fmt.t(id)
    }

    /// The message `id` with its `$count` (plural forms chosen by the catalogue).
    pub fn count(&self, id: &str, count: impl std::borrow::Borrow<i64>) -> String {
        self.fmt.t_with(id, &[("count", fluent_bundle::FluentValue::from(*count.borrow()))])
    }

    /// Whether a select's option is the chosen value (for the templates).
    pub fn same(&self, option: impl AsRef<str>, value: impl AsRef<str>) -> bool {
        option.as_ref() == value.as_ref()
    }

    /// The message `<prefix>-<key>` with its `$count`.
    pub fn count_of(&self, prefix: &str, key: &str, count: impl std::borrow::Borrow<i64>) -> String {
        self.count(&format!("{prefix}-{key}"), count)
    }

    /// The message `<prefix>-<key>`: a closed vocabulary's word (`status-en_route`).
    pub fn tk(&self, prefix: &str, key: &str) -> String {
        self.fmt.t(&format!("{prefix}-{key}"))
    }

    /// The served path of the embedded asset `logical`.
    pub fn asset(&self, logical: &str) -> &'static str {
        assets::path(logical)
    }

    /// The `hx-headers` value that sends the CSRF token with every htmx request.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ "x-csrf-token": self.csrf }).to_string()
    }

    /// The other languages, for the switcher.
    pub fn other_locales(&self) -> Vec<(&'static str, String)> {
        Locale::ALL
            .into_iter()
            .filter(|l| *l != self.fmt.locale)
            .map(|l| (l.code(), self.fmt.t(&format!("language-{}", l.code()))))
            .collect()
    }
}
