//! Headless Chromium for the console's tests: Debian's `chromium` driven
//! through `chromedriver` (WebDriver, with fantoccini). Each browser has its own
//! empty profile and its own chromedriver on a free port. A test that needs one
//! is `#[ignore = "needs Debian's chromium and chromium-driver; run with
//! --include-ignored"]`, so a plain `cargo test` says it was skipped; CI
//! installs the two packages and runs them with `--include-ignored`, where a
//! missing browser fails the test.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a step waits for.
const WAIT: Duration = Duration::from_secs(20);

/// One headless browser window.
pub struct Browser {
    pub client: Client,
    base: String,
    /// chromedriver's own URL, for the commands WebDriver has no word for.
    driver_url: String,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// Where screenshots go: `target/console-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp has a parent").join("console-screenshots")
}

impl Browser {
    /// A browser at 1280x720 whose preferred language is `lang`, for the
    /// console at `base`.
    pub async fn start(base: &str, lang: &str) -> Self {
        Self::start_sized(base, lang, (1280, 720)).await
    }

    pub async fn start_sized(base: &str, lang: &str, (width, height): (u32, u32)) -> Self {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(std::path::Path::new(path).exists(), "{path} is missing: apt-get install -y chromium chromium-driver");
        }
        let port = kit::testing::free_port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        wait_until_up(&url).await;
        let profile = tempfile::tempdir().expect("a profile directory");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--window-size={width},{height}"), format!("--lang={lang}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": lang },
            },
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector).capabilities(caps).connect(&url).await.expect("a WebDriver session");
        Self { client, base: base.trim_end_matches('/').to_owned(), driver_url: url, driver, _profile: profile }
    }

    /// The console's origin (`http://127.0.0.1:port`).
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// A Chrome DevTools Protocol command through chromedriver's passthrough
    /// (`POST /session/{id}/goog/cdp/execute`): what WebDriver cannot do,
    /// such as granting a permission or emulating a position.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.client.session_id().await.ok().flatten().expect("a WebDriver session");
        let url = format!("{}/session/{session}/goog/cdp/execute", self.driver_url);
        let res =
            reqwest::Client::new().post(url).json(&json!({ "cmd": cmd, "params": params })).send().await.expect("chromedriver answers");
        assert!(res.status().is_success(), "{cmd}: {}", res.text().await.unwrap_or_default());
        res.json().await.unwrap_or(Value::Null)
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The first element matching `css`, once it is there.
    pub async fn find(&self, css: &str) -> Element {
        self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    /// Every element matching `css` now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// Waits until `script` (a JavaScript expression) is true in the page.
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.client.execute(&format!("return Boolean({script});"), Vec::new()).await;
            if matches!(v, Ok(Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what} ({script}); last answer {v:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_default()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.ok();
        field.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Drags the element matching `from` onto the one matching `to` with the
    /// mouse (pointer events, as a hand would: press, a first move past the
    /// drag threshold, the move, release).
    pub async fn drag(&self, from: &str, to: &str) {
        use fantoccini::actions::{InputSource as _, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        let (source, target) = (self.find(from).await, self.find(to).await);
        let step = Some(Duration::from_millis(100));
        let hand = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement { element: source, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::MoveBy { duration: step, x: 12.0, y: 12.0 })
            .then(PointerAction::MoveToElement { element: target, duration: step, x: 0.0, y: 0.0 })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.client.perform_actions(hand).await.unwrap_or_else(|e| panic!("drag {from} onto {to}: {e}"));
    }

    /// Signs in through the sign-in page in `lang`.
    pub async fn sign_in(&self, email: &str, password: &str, lang: &str) {
        self.goto(&format!("/login?lang={lang}")).await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
        self.until("the signed-in page", "document.querySelector('header.top') !== null").await;
    }

    /// Every form control of the page has a name a screen reader says (a
    /// label, `aria-label` or `title`), and so does every button; the page
    /// declares its language. Fails naming the controls that do not.
    pub async fn assert_named(&self, page: &str) {
        let script = r#"
            const unnamed = [];
            for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button')) {
                const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.title
                    || (el.tagName === 'BUTTON' && el.textContent.trim() !== '');
                if (!named) unnamed.push(el.outerHTML.slice(0, 120));
            }
            if (!document.documentElement.lang) unnamed.push('<html> without lang');
            return unnamed;
        "#;
        let found = self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("check {page}: {e}"));
        assert_eq!(found, Value::Array(Vec::new()), "controls without a name on {page}");
    }

    /// Saves the window as `target/console-screenshots/<name>.png`, after
    /// checking that every control on it has a name ([`Self::assert_named`]).
    pub async fn shot(&self, name: &str) {
        self.assert_named(name).await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is written");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// Polls chromedriver's `/status` until it answers, within [`WAIT`].
async fn wait_until_up(url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(res) = http.get(format!("{url}/status")).send().await
            && res.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "chromedriver did not answer at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
