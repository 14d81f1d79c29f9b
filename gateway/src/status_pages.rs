//! Public status pages: a company's admin may publish its monitors' names and
//! states, read-only and without sign-in, at `/status/{slug}`. The gateway
//! keeps, per company, the slug, the page's title and whether it is on
//! (`gateway_status_pages`); the rules of a slug and every query are here,
//! for the console's form and the REST route alike.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, IntoActiveModel as _, QueryFilter as _, Set,
    TransactionTrait as _,
};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "gateway_status_pages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: i64,
        pub slug: String,
        pub title: String,
        pub enabled: bool,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The shortest and longest slug.
pub const SLUG_LEN: std::ops::RangeInclusive<usize> = 3..=63;
/// The longest title.
pub const TITLE_MAX: usize = 100;
/// Words the console's own pages use under `/status/`: never a company's page.
pub const RESERVED: &[&str] = &["board", "maintenance", "monitors", "public", "settings", "events"];

/// What an admin asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub slug: String,
    pub title: String,
    pub enabled: bool,
}

/// Why a request is refused, by field (`slug` or `title`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Empty.
    Required(&'static str),
    TitleTooLong,
    /// Not 3 to 63 lowercase letters, digits and single hyphens inside.
    SlugFormat,
    /// One of [`RESERVED`].
    SlugReserved,
    /// Another company's page has it.
    SlugTaken,
}

impl Refusal {
    /// The request field it is about.
    pub fn field(self) -> &'static str {
        match self {
            Self::Required(field) => field,
            Self::TitleTooLong => "title",
            Self::SlugFormat | Self::SlugReserved | Self::SlugTaken => "slug",
        }
    }

    /// In the API's words.
    pub fn to_api(self) -> crate::ApiError {
        let message = match self {
            Self::Required(field) => format!("{field} is required"),
            Self::TitleTooLong => format!("title is longer than {TITLE_MAX} characters"),
            Self::SlugFormat => format!(
                "slug must be {} to {} lowercase letters, digits and hyphens, starting and ending with a letter or digit",
                SLUG_LEN.start(),
                SLUG_LEN.end()
            ),
            Self::SlugReserved => format!("slug may not be one of {}", RESERVED.join(", ")),
            Self::SlugTaken => "another company's status page has this slug".to_owned(),
        };
        match self {
            Self::SlugTaken => {
                let mut e = crate::ApiError::new(http::StatusCode::CONFLICT, "already_exists", message);
                e.details = serde_json::json!({ "field": "slug" });
                e
            }
            other => crate::ApiError::invalid(other.field(), message),
        }
    }
}

/// Either a refusal or the database's failure.
#[derive(Debug)]
pub enum SaveError {
    Refused(Refusal),
    Db(DbErr),
}

impl From<DbErr> for SaveError {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

/// A slug as typed, checked: trimmed, then 3 to 63 of `a-z 0-9 -`, no hyphen
/// first, last or doubled, and not a reserved word.
pub fn check_slug(raw: &str) -> Result<String, Refusal> {
    let slug = raw.trim();
    if slug.is_empty() {
        return Err(Refusal::Required("slug"));
    }
    let allowed = slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !allowed || !SLUG_LEN.contains(&slug.len()) || slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err(Refusal::SlugFormat);
    }
    if RESERVED.contains(&slug) {
        return Err(Refusal::SlugReserved);
    }
    Ok(slug.to_owned())
}

/// A request checked: the slug ([`check_slug`]) and a title of 1 to 100
/// characters on one line.
pub fn check(r: &Request) -> Result<Request, Refusal> {
    let slug = check_slug(&r.slug)?;
    let title = r.title.trim();
    if title.is_empty() {
        return Err(Refusal::Required("title"));
    }
    if title.chars().count() > TITLE_MAX || title.chars().any(char::is_control) {
        return Err(Refusal::TitleTooLong);
    }
    Ok(Request { slug, title: title.to_owned(), enabled: r.enabled })
}

/// The company's page, if its admin ever saved one.
pub async fn of_company(db: &DatabaseConnection, company_id: i64) -> Result<Option<entity::Model>, DbErr> {
    entity::Entity::find_by_id(company_id).one(db).await
}

/// The page served at `slug`, when it is on.
pub async fn published(db: &DatabaseConnection, slug: &str) -> Result<Option<entity::Model>, DbErr> {
    entity::Entity::find().filter(entity::Column::Slug.eq(slug)).filter(entity::Column::Enabled.eq(true)).one(db).await
}

/// Saves the company's page as `r` asks (checked), recording the change for
/// the audit trail by `actor` in the same transaction; a slug another
/// company has is refused, races included (the unique index decides).
pub async fn save(
    db: &DatabaseConnection,
    company_id: i64,
    r: &Request,
    actor: Option<&kit::audit_trail::Actor>,
    now: DateTime<Utc>,
) -> Result<entity::Model, SaveError> {
    let r = check(r).map_err(SaveError::Refused)?;
    let txn = db.begin().await?;
    // On SQLite the write lock before the reads: a transaction that reads and
    // then writes fails when another write (a sign-in) commits in between.
    kit::db::lock_for_write(&txn, "gateway_status_pages").await?;
    let before = entity::Entity::find_by_id(company_id).one(&txn).await?;
    let taken = entity::Entity::find()
        .filter(entity::Column::Slug.eq(r.slug.as_str()))
        .filter(entity::Column::CompanyId.ne(company_id))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(SaveError::Refused(Refusal::SlugTaken));
    }
    let written = match before.clone() {
        Some(row) => {
            let mut row = row.into_active_model();
            row.slug = Set(r.slug.clone());
            row.title = Set(r.title.clone());
            row.enabled = Set(r.enabled);
            row.updated_at = Set(now);
            row.update(&txn).await
        }
        None => {
            entity::ActiveModel {
                company_id: Set(company_id),
                slug: Set(r.slug.clone()),
                title: Set(r.title.clone()),
                enabled: Set(r.enabled),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
        }
    };
    let saved = written.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => SaveError::Refused(Refusal::SlugTaken),
        _ => SaveError::Db(e),
    })?;
    if let Some(actor) = actor {
        let action = if before.is_some() { "update" } else { "create" };
        let change = kit::audit_trail::Change::diff("status_page", company_id, action, before.as_ref(), Some(&saved), &[]);
        if !change.is_empty() {
            kit::audit_trail::record_as(&txn, kit::Component::Gateway, actor, change, now).await?;
        }
    }
    txn.commit().await?;
    tracing::info!(company_id, slug = %saved.slug, enabled = saved.enabled, "status page saved");
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_lowercase_letters_digits_and_inner_single_hyphens() {
        assert_eq!(check_slug("  acme-transport-2 "), Ok("acme-transport-2".to_owned()));
        for bad in ["Acme", "acme_transport", "-acme", "acme-", "ac--me", "ab", "é-t-é", "acme transport", &"a".repeat(64)] {
            assert_eq!(check_slug(bad), Err(Refusal::SlugFormat), "{bad:?}");
        }
        assert_eq!(check_slug(" "), Err(Refusal::Required("slug")));
        assert_eq!(check_slug("monitors"), Err(Refusal::SlugReserved), "the console's own page");
        assert_eq!(check_slug(&"a".repeat(63)).map(|s| s.len()), Ok(63));
    }

    #[test]
    fn a_title_is_required_and_short() {
        let ok = Request { slug: "acme".into(), title: " Acme ".into(), enabled: true };
        assert_eq!(check(&ok).unwrap().title, "Acme");
        assert_eq!(check(&Request { title: " ".into(), ..ok.clone() }), Err(Refusal::Required("title")));
        assert_eq!(check(&Request { title: "x".repeat(101), ..ok.clone() }), Err(Refusal::TitleTooLong));
        assert_eq!(check(&Request { title: "a\nb".into(), ..ok }).unwrap_err().field(), "title");
        assert_eq!(Refusal::SlugTaken.to_api().status, http::StatusCode::CONFLICT);
        assert_eq!(Refusal::SlugFormat.to_api().details["field"], "slug");
    }
}
