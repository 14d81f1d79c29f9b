//! Users of the platform, stored by the gateway: email, Argon2 password hash,
//! role and company (and a driver account's driver), and when each last
//! signed in. An admin is created on
//! first start, and the platform operator (who belongs to no company) from
//! its configured login.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use chrono::Utc;
use kit::auth::Role;
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, Set};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub email: String,
        pub password_hash: String,
        pub role: String,
        pub company_id: i64,
        pub active: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        /// Tokens carry the generation they were issued under; a revocation
        /// moves the account to the next one.
        pub token_generation: i64,
        /// When the generation last moved.
        pub tokens_revoked_at: Option<ChronoDateTimeUtc>,
        /// The console language the user chose (`fr`, `en`); none: the browser's.
        pub locale: Option<String>,
        /// The driver record (dispatch's id) a `driver` account is linked
        /// to; none for every other role (the database holds to both).
        pub driver_id: Option<i64>,
        /// When the account last signed in; none when unknown.
        pub last_sign_in_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The account's role; a stored value outside the roles an account may hold
/// (`service` is no account's) is an error naming the row.
pub fn role_of(user: &entity::Model) -> Result<Role, kit::stored::UnknownValue> {
    kit::stored::parse("users", "role", user.id, &user.role, |s| s.parse::<Role>().ok().filter(|r| *r != Role::Service))
}

/// The company the bootstrapped admin belongs to.
pub const FIRST_COMPANY_ID: i64 = 1;

/// A login created on first start, to show the operator once.
#[derive(Clone, Debug)]
pub struct BootstrapLogin {
    pub email: String,
    /// Present when it was generated (not taken from the environment).
    pub generated_password: Option<String>,
}

/// Argon2id's memory cost in KiB, iterations and lanes for new hashes: the
/// OWASP Password Storage Cheat Sheet's recommendation ("Use Argon2id with a
/// minimum configuration of 19 MiB of memory, an iteration count of 2, and 1
/// degree of parallelism", m=19456 KiB, t=2, p=1;
/// <https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id>).
/// Written out rather than left to the crate's defaults, so that an upgrade
/// cannot lower them unseen. A stored hash carries its own parameters (the PHC
/// string), so older hashes keep verifying, and one below these is replaced at
/// its account's next successful login ([`needs_rehash`]).
pub const ARGON2_M_COST_KIB: u32 = 19_456;
pub const ARGON2_T_COST: u32 = 2;
pub const ARGON2_P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with Argon2id at the parameters above and a random salt
/// (CPU-bound: call from a blocking task).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).expect("argon2 hashing with valid parameters").to_string()
}

/// Checks `password` against a stored hash, at the parameters the hash names
/// (CPU-bound: call from a blocking task).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// Whether a stored hash is weaker than what [`hash_password`] makes now: not
/// Argon2id, an older version, or any cost below the current one.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(h) = PasswordHash::new(hash) else { return true };
    let Ok(params) = Params::try_from(&h) else { return true };
    h.algorithm != Algorithm::Argon2id.ident()
        || h.version.is_some_and(|v| v < Version::V0x13 as u32)
        || params.m_cost() < ARGON2_M_COST_KIB
        || params.t_cost() < ARGON2_T_COST
        || params.p_cost() < ARGON2_P_COST
}

/// Replaces the hash of `user` with a fresh one of `password` (just verified
/// against the old one) when the old one is weaker than today's parameters.
/// Only if the row still holds the old hash: a password reset that landed
/// meanwhile wins. Best effort: a failure is logged and the login goes on.
pub async fn upgrade_hash(db: &DatabaseConnection, user: &entity::Model, password: String) {
    use sea_orm::sea_query::Expr;
    if !needs_rehash(&user.password_hash) {
        return;
    }
    let fresh = match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(h) => h,
        Err(e) => return tracing::warn!(error = %e, "cannot rehash a password"),
    };
    let updated = entity::Entity::update_many()
        .col_expr(entity::Column::PasswordHash, Expr::value(fresh))
        .filter(entity::Column::Id.eq(user.id))
        .filter(entity::Column::PasswordHash.eq(user.password_hash.clone()))
        .exec(db)
        .await;
    match updated {
        Ok(r) if r.rows_affected == 1 => tracing::info!(user_id = user.id, "password hash upgraded to the current Argon2 parameters"),
        Ok(_) => {}
        Err(e) => tracing::warn!(user_id = user.id, error = %e, "cannot store an upgraded password hash"),
    }
}

/// Notes that `user_id` signed in at `at`, for their admins to see. Best
/// effort: a failure is logged and the sign-in goes on.
pub async fn record_sign_in(db: &DatabaseConnection, user_id: i64, at: chrono::DateTime<Utc>) {
    use sea_orm::sea_query::Expr;
    let updated = entity::Entity::update_many()
        .col_expr(entity::Column::LastSignInAt, Expr::value(at))
        .filter(entity::Column::Id.eq(user_id))
        .exec(db)
        .await;
    if let Err(e) = updated {
        tracing::warn!(user_id, error = %e, "cannot record a sign-in's time");
    }
}

pub async fn find_by_email(db: &DatabaseConnection, email: &str) -> Result<Option<entity::Model>, DbErr> {
    entity::Entity::find().filter(entity::Column::Email.eq(email.trim().to_lowercase())).one(db).await
}

pub async fn find_by_id(db: &DatabaseConnection, id: i64) -> Result<Option<entity::Model>, DbErr> {
    entity::Entity::find_by_id(id).one(db).await
}

/// What to do when the first admin must be created and `ATMR_ADMIN_PASSWORD`
/// is not set. A generated password is shown only on the terminal of `atmr
/// up`, never through `tracing`: logs are shipped and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithoutPassword {
    /// Generate one, returned for the caller to print once (`atmr up`).
    Generate,
    /// Create no admin yet and say so in the log (`atmr serve gateway` in
    /// development: nobody would see a generated password).
    Wait,
    /// Stop start-up naming the variable (`ATMR_ENV=production`).
    Refuse,
}

impl WithoutPassword {
    /// `atmr up` generates in development; production always refuses.
    pub fn for_up(deployment: kit::config::Deployment) -> Self {
        if deployment == kit::config::Deployment::Production { Self::Refuse } else { Self::Generate }
    }

    /// `atmr serve gateway` waits for a password in development; production refuses.
    pub fn for_serve(deployment: kit::config::Deployment) -> Self {
        if deployment == kit::config::Deployment::Production { Self::Refuse } else { Self::Wait }
    }
}

/// Creates the first admin when there is no admin at all (other accounts, such
/// as the demo dispatcher, do not count). Returns the login to show, or None
/// when an admin exists or none was created (`WithoutPassword::Wait`).
pub async fn ensure_admin(
    db: &DatabaseConnection,
    email: Option<&str>,
    password: Option<&str>,
    without: WithoutPassword,
) -> anyhow::Result<Option<BootstrapLogin>> {
    if entity::Entity::find().filter(entity::Column::Role.eq(Role::Admin.as_str())).count(db).await? > 0 {
        return Ok(None);
    }
    let email = email.unwrap_or("admin@atmr.local").trim().to_lowercase();
    let (password, generated) = match (password, without) {
        (Some(p), _) => (p.to_owned(), false),
        (None, WithoutPassword::Generate) => (random_password(), true),
        (None, WithoutPassword::Wait) => {
            tracing::warn!(email = %email, "no admin account yet: set ATMR_ADMIN_PASSWORD and restart to create the first one");
            return Ok(None);
        }
        (None, WithoutPassword::Refuse) => {
            return Err(kit::ConfigError::new(
                "ATMR_ADMIN_PASSWORD",
                "",
                "the first admin's password (at least 8 characters): there is no admin yet, and with ATMR_ENV=production none is generated",
            )
            .into());
        }
    };
    insert(db, &email, &password, Role::Admin, FIRST_COMPANY_ID).await?;
    tracing::info!(email = %email, generated, "created the first admin account");
    Ok(Some(BootstrapLogin { email, generated_password: generated.then_some(password) }))
}

/// Creates the platform operator's account from `ATMR_OPERATOR_EMAIL` /
/// `ATMR_OPERATOR_PASSWORD` when no account has that email; an existing
/// operator keeps the password it has. An email that is a company's account
/// stops start-up naming the variable: one login never opens two roles.
pub async fn ensure_operator(db: &DatabaseConnection, login: Option<&crate::config::OperatorLogin>) -> anyhow::Result<()> {
    let Some(login) = login else { return Ok(()) };
    match find_by_email(db, &login.email).await? {
        Some(u) if u.role == Role::Operator.as_str() => Ok(()),
        Some(_) => Err(kit::ConfigError::new(
            "ATMR_OPERATOR_EMAIL",
            &login.email,
            "an email no company account uses: the operator belongs to no company",
        )
        .into()),
        None => {
            insert(db, &login.email, &login.password, Role::Operator, kit::auth::PLATFORM_COMPANY_ID).await?;
            tracing::info!(email = %login.email, "created the platform operator's account");
            Ok(())
        }
    }
}

/// Creates `email` with `role` in `company_id` and a generated password unless
/// the account exists. Returns the password when it was created.
pub async fn ensure_user(db: &DatabaseConnection, email: &str, role: Role, company_id: i64) -> anyhow::Result<Option<String>> {
    if find_by_email(db, email).await?.is_some() {
        return Ok(None);
    }
    let password = random_password();
    insert(db, email, &password, role, company_id).await?;
    tracing::info!(email = %email, role = role.as_str(), "created an account");
    Ok(Some(password))
}

async fn insert(db: &DatabaseConnection, email: &str, password: &str, role: Role, company_id: i64) -> anyhow::Result<()> {
    let hash = {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password)).await?
    };
    let now = Utc::now();
    entity::Entity::insert(entity::ActiveModel {
        email: Set(email.to_owned()),
        password_hash: Set(hash),
        role: Set(role.as_str().to_owned()),
        company_id: Set(company_id),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        token_generation: Set(0),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// 20 random letters and digits (about 119 bits).
pub fn random_password() -> String {
    use rand::{Rng as _, distr::Alphanumeric};
    rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect()
}

/// Creates the first admin of a company the operator just made, with a
/// generated password (returned, to be shown once).
pub async fn create_company_admin(db: &DatabaseConnection, email: &str, company_id: i64) -> anyhow::Result<String> {
    let password = random_password();
    insert(db, email, &password, Role::Admin, company_id).await?;
    tracing::info!(company_id, "created a company's first admin");
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(h.contains("$m=19456,t=2,p=1$"), "{h}");
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn an_older_weaker_hash_still_verifies_and_is_marked_for_rehashing() {
        let salt = SaltString::generate(&mut OsRng);
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap())
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("correct horse", &weak), "its parameters travel with it");
        assert!(needs_rehash(&weak));
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default()).hash_password(b"pw", &salt).unwrap().to_string();
        assert!(verify_password("pw", &argon2i));
        assert!(needs_rehash(&argon2i), "not Argon2id");
        assert!(needs_rehash("not a hash"));
    }
}
