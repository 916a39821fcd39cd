//! The dashboard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver: the score shown equals the API's,
//! the language switch changes the labels, the what-if form computes what the API
//! computes, nothing is loaded from outside the server, and screenshots are saved
//! to target/test-artifacts/.
//!
//! Without chromium the test is skipped with a message, unless
//! `DENGTA_REQUIRE_BROWSER=1` (set by `.ci/run`), where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{fixture, get, post_json};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(profile: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let started = Instant::now();
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     format!("--user-data-dir={}", profile.display()), "--window-size=1280,2400"]
        }}}});
        let mut r = agent.post(&format!("{base}/session")).send_json(&caps).expect("new session");
        let body: Value = r.body_mut().read_json().expect("json");
        let session = body["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {body}")).to_string();
        let driver = Driver { child, base, session, agent };
        // A click that submits a form returns before the next page is there: let
        // element lookups wait for it (a loaded machine takes a while).
        driver.cmd("POST", "/timeouts", json!({ "implicit": 15000 }));
        driver
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut r = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).send_json(&body),
        }
        .expect("webdriver call");
        let v: Value = r.body_mut().read_json().expect("json");
        assert!(v["value"]["error"].is_null(), "{method} {path}: {v}");
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.cmd("GET", &format!("/element/{id}/text"), Value::Null).as_str().unwrap_or_default().trim().to_string()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/clear"), json!({}));
        self.cmd("POST", &format!("/element/{id}/value"), json!({ "text": text }));
    }

    fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().expect("base64")).expect("png");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("artifact dir");
        std::fs::write(path, png).expect("write screenshot");
    }

    fn resources(&self) -> Vec<String> {
        let v = self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);", "args": []}),
        );
        v.as_array().expect("list").iter().map(|x| x.as_str().unwrap_or_default().to_string()).collect()
    }
}

fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
}

#[test]
fn dashboard_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("DENGTA_REQUIRE_BROWSER").is_err(),
            "DENGTA_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
        );
        eprintln!("SKIPPED: no {CHROMIUM}/{CHROMEDRIVER} (apt-get install chromium chromium-driver)");
        return;
    }
    let f = fixture();
    let profile = tempfile::tempdir().expect("profile dir");
    let d = Driver::start(profile.path());

    // Log in through the link `dengta demo` prints; the dashboard opens in Chinese.
    d.go(&format!("{}/login?token={}", f.base, f.merchant));
    let api = get(&format!("/api/v1/stores/{}/score", f.own_store), &f.merchant).body;
    assert_eq!(d.text("#score"), api["score"].as_str().expect("score"), "the page shows the API's score");
    assert_eq!(d.text("#score-label"), "基础服务考核分");
    assert!(d.text("#dimensions").contains("物流体验"));
    d.find("#trend");
    d.find("#threshold-line");
    assert!(d.text("#indicators").contains("24小时揽收率"));
    d.screenshot(&artifacts().join("dashboard-zh.png"));

    // Switch to English: the labels change, the numbers do not.
    d.click("#lang-switch");
    assert_eq!(d.text("#score-label"), "Basic service score");
    assert!(d.text("#dimensions").contains("Logistics experience"));
    assert_eq!(d.text("#score"), api["score"].as_str().expect("score"));
    let fix = get(&format!("/api/v1/stores/{}/fix-first", f.own_store), &f.merchant).body;
    if let Some(first) = fix.as_array().and_then(|a| a.first()) {
        assert!(d.text("#fix-first").contains(first["text_en"].as_str().expect("text")));
    }
    d.screenshot(&artifacts().join("dashboard-en.png"));

    // The what-if form computes what the API computes.
    d.type_into("input[name=v_pickup_24h_rate]", "0.99");
    d.click("#what-if button");
    let shown = d.text("#what-if-score");
    let expected = post_json(
        &format!("/api/v1/stores/{}/what-if", f.own_store),
        &f.merchant,
        json!({"values": {"pickup_24h_rate": 0.99}}),
    )
    .body;
    assert_eq!(shown, expected["after"]["score"].as_str().expect("score"));
    d.screenshot(&artifacts().join("dashboard-what-if.png"));

    // Nothing came from anywhere but this server.
    for url in d.resources() {
        assert!(url.starts_with(&f.base), "loaded from outside the server: {url}");
    }

    // A merchant cannot open another store's dashboard.
    d.go(&format!("{}/dashboard?store={}", f.base, f.other_store));
    assert!(d.text("main").contains("no store"), "another store is a 404 page");

    // The operator page.
    d.go(&format!("{}/login?token={}&next=/operator%3Flang%3Den", f.base, f.operator));
    assert!(d.text("#distribution").contains("apparel") || d.text("#distribution").contains("beauty"));
    d.screenshot(&artifacts().join("operator-en.png"));
}
