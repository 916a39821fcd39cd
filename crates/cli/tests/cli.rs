//! The `dengta` binary, run as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dengta(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dengta")).args(args).output().expect("the dengta binary runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden").join(case).join("dataset")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn every_command_explains_itself() {
    for (cmd, needle) in [
        ("demo", "demo dataset"),
        ("score", "--strict"),
        ("explain", "--date"),
        ("generate", "--seed"),
        ("settle", "--year"),
        ("eligible", "--campaign"),
        ("quality", "--from"),
    ] {
        let o = dengta(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help");
        assert!(text(&o).contains(needle), "{cmd} --help lacks {needle}: {}", text(&o));
    }
    assert!(text(&dengta(&["--help"])).contains("score"));
}

#[test]
fn generate_is_seeded() {
    let dir = tempfile::tempdir().expect("temp");
    let make = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        let o = dengta(&["generate", s(&out), "--stores", "14", "--days", "20", "--seed", seed]);
        assert!(o.status.success(), "{}", text(&o));
        out
    };
    let (a, b, c) = (make("a", "7"), make("b", "7"), make("c", "8"));
    for table in ["stores", "orders", "reviews", "chats", "refunds", "disputes", "complaints", "exemptions"] {
        let f = format!("{table}.csv");
        let read = |d: &Path| std::fs::read(d.join(&f)).expect("table written");
        assert_eq!(read(&a), read(&b), "{table} differs for the same seed");
    }
    assert_ne!(std::fs::read(a.join("orders.csv")).ok(), std::fs::read(c.join("orders.csv")).ok());
    let stores = std::fs::read_to_string(a.join("stores.csv")).expect("stores");
    for needle in [",telecom,", ",toys,", ",false,false", ",true,true"] {
        assert!(stores.contains(needle), "generated stores lack {needle}:\n{stores}");
    }
}

#[test]
fn score_prints_a_summary_and_strict_fails_on_rejects() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("out");
    let o = dengta(&["score", s(&golden("bad")), "--from", "2025-03-01", "--to", "2025-03-31", "--out", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("49 rows rejected") && t.contains("scored"), "{t}");
    let o = dengta(&[
        "score",
        s(&golden("bad")),
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--out",
        s(&out),
        "--strict",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("--strict"), "{}", text(&o));
}

#[test]
fn bad_rule_files_name_file_line_and_key() {
    let dir = tempfile::tempdir().expect("temp");
    let rules = dir.path().join("r.toml");
    let bad = dengta_rules::DEFAULT_RULES_TOML.replacen("pass_threshold = 4.0", "pass_treshold = 4.0", 1);
    std::fs::write(&rules, bad).expect("write");
    let o = dengta(&[
        "score",
        s(&golden("bad")),
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-02",
        "--out",
        s(&dir.path().join("o")),
        "--rules",
        s(&rules),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("r.toml:") && t.contains("pass_treshold"), "{t}");
}

#[test]
fn a_missing_column_names_the_file_and_column() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(dir.path().join("stores.csv"), "store_id,main_category,onboarded\nS1,home,true\n").expect("write");
    let o = dengta(&[
        "score",
        s(dir.path()),
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-02",
        "--out",
        s(&dir.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let t = text(&o);
    assert!(t.contains("stores.csv") && t.contains("`opened_on`"), "{t}");
}

#[test]
fn demo_generates_scores_and_shows_rows_then_explain_works() {
    let dir = tempfile::tempdir().expect("temp");
    let o = dengta(&["demo", "--dir", s(dir.path()), "--stores", "14", "--days", "40", "--no-serve"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("sample scores as of 2025-02-09"), "{t}");
    assert!(t.contains("merchant token for store") && t.contains("operator token:"), "{t}");
    assert!(dir.path().join("dengta.sqlite").is_file(), "the demo loads its run into the state database");
    assert!(dir.path().join("out/daily_scores.parquet").is_file());
    let line =
        t.lines().find(|l| l.trim_start().starts_with("dengta explain")).expect("demo prints an explain command");
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let o = dengta(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Rule version default-1"), "{}", text(&o));
}

/// The real Olist data (shared/data/olist): import, then score a month; duplicate
/// review ids (real in Olist) are reported as rejects, and unmapped categories are
/// reported as not assessed.
#[test]
fn import_and_score_the_real_olist_data() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/olist");
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("olist");
    let o = dengta(&["import-olist", s(&src), s(&data)]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("order canceled or unavailable") && t.contains("unmapped:"), "{t}");
    let out = dir.path().join("out");
    let o = dengta(&["score", s(&data), "--from", "2018-03-01", "--to", "2018-03-31", "--out", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("category `unmapped` is not in the rules"), "{}", text(&o));
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).expect("rejects");
    assert!(
        rejects.lines().skip(1).all(|l| l.starts_with("reviews,") && l.contains(",review_id,duplicate_id,")),
        "{rejects}"
    );
    assert!(rejects.lines().count() > 1, "Olist's duplicate review ids are reported");
    let daily = std::fs::read_to_string(out.join("daily_scores.csv")).expect("daily");
    assert!(daily.lines().count() > 1000, "a month of real store-days is scored");
    assert!(daily.lines().any(|l| l.contains(",scored,")));
}

/// `dengta serve` makes the first run, prints an operator token once, and serves
/// the API; `dengta token` creates a merchant token and revokes it.
#[test]
fn serve_scores_first_then_answers_with_tokens() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    let o = dengta(&["generate", s(&data), "--stores", "12", "--days", "40", "--seed", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    let db = dir.path().join("state.sqlite");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dengta"))
        .args([
            "serve",
            s(&data),
            "--db",
            s(&db),
            "--from",
            "2025-01-01",
            "--to",
            "2025-02-09",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut token, mut base) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(t) = line.strip_prefix("operator token (shown once; keep it): ") {
            token = t.to_string();
        }
        if let Some(rest) = line.strip_prefix("serving on ") {
            base = rest.split_whitespace().next().expect("url").to_string();
            break;
        }
    }
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let status = |t: &str, path: &str| {
        agent
            .get(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {t}"))
            .call()
            .expect("call")
            .status()
            .as_u16()
    };
    assert!(token.starts_with("dgt_"), "an operator token is printed");
    assert_eq!(status(&token, "/api/v1/stores"), 200);

    let o = dengta(&["token", "create", "--db", s(&db), "--role", "merchant", "--store", "S00001"]);
    assert!(o.status.success(), "{}", text(&o));
    let merchant = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert_eq!(status(&merchant, "/api/v1/stores/S00001/months"), 200);
    assert_eq!(status(&merchant, "/api/v1/stores/S00002/months"), 404);
    let o = dengta(&["token", "list", "--db", s(&db)]);
    assert!(text(&o).contains("merchant\tS00001"), "{}", text(&o));
    let id =
        text(&o).lines().find(|l| l.contains("merchant")).and_then(|l| l.split('\t').next()).expect("id").to_string();
    assert!(dengta(&["token", "revoke", &id, "--db", s(&db)]).status.success());
    assert_eq!(status(&merchant, "/api/v1/stores/S00001/months"), 401);
    let o = dengta(&["token", "create", "--db", s(&db), "--role", "merchant"]);
    assert!(!o.status.success() && text(&o).contains("--store"), "{}", text(&o));
    let _ = child.kill();
    let _ = child.wait();
}

/// The executable is linked position-dependent on Linux (build.rs): the loader
/// then has no addresses to patch at each start (docs/DECISIONS.md).
#[cfg(target_os = "linux")]
#[test]
fn the_executable_is_position_dependent_on_linux() {
    use std::io::Read;
    let mut head = [0u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_dengta"))
        .and_then(|mut f| f.read_exact(&mut head))
        .expect("the binary's ELF header reads");
    assert_eq!(&head[..4], b"\x7fELF");
    let kind = u16::from_le_bytes([head[16], head[17]]);
    let expected = if option_env!("DENGTA_PIE") == Some("1") { 3 } else { 2 };
    assert_eq!(kind, expected, "ELF type (2 = EXEC, position-dependent; 3 = DYN, position-independent)");
}
