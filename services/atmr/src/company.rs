//! `atmr company create`: a REST client of a running gateway. It logs in as
//! the platform operator (`ATMR_OPERATOR_EMAIL` / `ATMR_OPERATOR_PASSWORD`
//! from the environment), calls `POST /api/platform/companies`, and gives
//! back the new company's first admin login, which the command prints once.

use std::time::Duration;

use anyhow::Context as _;
use kit::Env;
use serde_json::{Value, json};

/// What `atmr company create` asks for.
#[derive(Clone, Debug, clap::Args)]
pub struct CreateCompany {
    /// The company's name, unique on the platform.
    #[arg(long)]
    pub name: String,
    /// An IANA time zone, e.g. Europe/Zurich.
    #[arg(long)]
    pub time_zone: String,
    /// The first admin's email (no account may have it yet).
    #[arg(long)]
    pub admin_email: String,
    /// The gateway's URL (default: ATMR_GATEWAY_URL, else http://127.0.0.1:8080).
    #[arg(long)]
    pub gateway: Option<String>,
}

/// The company made and its first admin's login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub company_id: i64,
    pub name: String,
    pub time_zone: String,
    pub admin_email: String,
    pub admin_password: String,
    /// An earlier attempt had made the company without its admin.
    pub completed_earlier_attempt: bool,
}

impl Created {
    /// The lines the command prints: the one place the password is shown.
    pub fn lines(&self) -> String {
        let completed = if self.completed_earlier_attempt { " (completing an earlier attempt that made it without its admin)" } else { "" };
        format!(
            "company {} {:?} ({}) created{completed}\nfirst admin login: {} / {}   (shown once: keep it now; the admin changes it in the console)",
            self.company_id, self.name, self.time_zone, self.admin_email, self.admin_password
        )
    }
}

/// Logs in as the operator on the gateway and creates the company.
pub async fn create(args: &CreateCompany, env: &Env) -> anyhow::Result<Created> {
    let base = args.gateway.as_deref().or(env.get("ATMR_GATEWAY_URL")).unwrap_or("http://127.0.0.1:8080").trim_end_matches('/').to_owned();
    let email = env.get("ATMR_OPERATOR_EMAIL").filter(|e| !e.trim().is_empty()).ok_or_else(|| {
        kit::ConfigError::new("ATMR_OPERATOR_EMAIL", "", "the platform operator's email (and ATMR_OPERATOR_PASSWORD) to log in with")
    })?;
    let password = env.get("ATMR_OPERATOR_PASSWORD").filter(|p| !p.is_empty()).ok_or_else(|| {
        kit::ConfigError::new("ATMR_OPERATOR_PASSWORD", "", "the platform operator's password (with ATMR_OPERATOR_EMAIL) to log in with")
    })?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let login = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway at {base} (is it running? --gateway or ATMR_GATEWAY_URL)"))?;
    let status = login.status();
    let body: Value = login.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!("the gateway at {base} refused the operator's login ({status}): {}", message(&body));
    }
    let token = body["access_token"].as_str().context("the gateway's login answer has no access_token")?;
    let res = http
        .post(format!("{base}/api/platform/companies"))
        .bearer_auth(token)
        .json(&json!({"name": args.name, "time_zone": args.time_zone, "admin_email": args.admin_email}))
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway at {base}"))?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status != reqwest::StatusCode::CREATED {
        let field = body["error"]["details"]["field"].as_str().map(|f| format!(" (field {f})")).unwrap_or_default();
        anyhow::bail!("the company was not created ({status}){field}: {}", message(&body));
    }
    let text = |v: &Value| v.as_str().map(str::to_owned).context("the gateway's answer lacks a field");
    Ok(Created {
        company_id: body["company"]["id"].as_i64().context("the gateway's answer has no company id")?,
        name: text(&body["company"]["name"])?,
        time_zone: text(&body["company"]["time_zone"])?,
        admin_email: text(&body["admin"]["email"])?,
        admin_password: text(&body["admin"]["password"])?,
        completed_earlier_attempt: body["completed_earlier_attempt"].as_bool().unwrap_or(false),
    })
}

/// The error body's message, or a word when there is none.
fn message(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or("no error message").to_owned()
}
