//! Tenant files (`switchboard tenant …`): the shipped examples apply to an empty database and
//! again with no changes; a changed file plans exactly its changes; a dry run writes nothing;
//! every refusal names file:line:column and the key, and a bad file among several writes
//! nothing; secrets from `env:`/`file:` are read and never printed; disabling keeps the data.
//!
//! The store is the real one (SQLite, or PostgreSQL with `SWITCHBOARD_TEST_DATABASE_URL`);
//! Cal.com is the simulator, in-process.

mod common;

use secrecy::SecretString;
use std::path::PathBuf;
use switchboard::secrets::{Keyring, SecretKey};
use switchboard::sim::calcom::CalcomSim;
use switchboard::store::AnyStore;
use switchboard::tenants::{CalcomAccess, cli};
use switchboard_actors::domain::onboarding::{Slug, TenantRef, fingerprint};
use switchboard_actors::ports::TenantAdminStore as _;

const DEMO: &str = include_str!("../examples/tenants/demo-salon-berlin.toml");
const THAMES: &str = include_str!("../examples/tenants/thames-physio.toml");

/// A database, a directory for tenant files and the Cal.com simulator.
struct Fixture {
    dir: tempfile::TempDir,
    url: String,
    store: AnyStore,
    calcom: CalcomAccess,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = common::database_url(dir.path()).await;
        let key = SecretKey::from_base64(common::SECRETS_KEY, "test key").unwrap();
        let store = AnyStore::connect(&url, 2)
            .await
            .unwrap()
            .with_keyring(Keyring::new(key, Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let sim = format!("http://{}", listener.local_addr().unwrap());
        actix_rt::spawn(CalcomSim::demo().serve(listener).unwrap());
        let calcom = CalcomAccess::new(&sim, std::time::Duration::from_secs(5));
        Self {
            dir,
            url,
            store,
            calcom,
        }
    }

    /// Writes `text` as tenant file `name` in the fixture's directory.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `tenant apply` through the library: the printed report, or the error's message.
    async fn apply(&self, files: &[PathBuf], dry_run: bool) -> Result<String, String> {
        let mut out = Vec::new();
        match cli::apply_files(&self.store, &self.calcom, files, dry_run, &mut out).await {
            Ok(()) => Ok(String::from_utf8(out).unwrap()),
            Err(e) => Err(format!("{e:#}")),
        }
    }

    async fn applied(&self, files: &[PathBuf]) -> String {
        self.apply(files, false)
            .await
            .unwrap_or_else(|e| panic!("apply failed:\n{e}"))
    }

    async fn refused(&self, files: &[PathBuf]) -> String {
        match self.apply(files, false).await {
            Ok(out) => panic!("apply succeeded:\n{out}"),
            Err(e) => e,
        }
    }

    /// Runs the real binary with `args` on the fixture's database.
    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(args)
            .env("SWITCHBOARD__DATABASE__URL", &self.url)
            .env("SWITCHBOARD__SECRETS__KEY", common::SECRETS_KEY)
            .env("SWITCHBOARD__LOG__LEVEL", "error")
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .output()
            .await
            .expect("the binary runs")
    }

    async fn tenant_count(&self) -> usize {
        self.store.list_tenants().await.unwrap().len()
    }
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the file"))
        + 1
}

/// `text` with the first `from` replaced by `to` (which must be there).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the file");
    text.replacen(from, to, 1)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn slug(s: &str) -> TenantRef {
    TenantRef::Slug(Slug::parse(s).unwrap())
}

#[actix_web::test]
async fn examples_apply_to_an_empty_database_and_again_with_no_changes() {
    let f = Fixture::new().await;
    let files = [f.file("demo.toml", DEMO), f.file("thames.toml", THAMES)];

    let first = f.applied(&files).await;
    assert!(
        first.contains("tenant demo-salon-berlin: create"),
        "{first}"
    );
    assert!(first.contains("tenant thames-physio: create"), "{first}");
    assert!(
        first.contains("+ branch mitte: phone number +493083793369"),
        "{first}"
    );
    assert!(
        !first.contains("warning: demo-salon-berlin"),
        "the demo key works against the simulator:\n{first}"
    );
    assert!(first.contains("applied: 2 of 2 tenants changed"), "{first}");
    let demo = f
        .store
        .tenant(&slug("demo-salon-berlin"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(demo.spec.services.len(), 3);
    assert_eq!(
        demo.spec.branches[0].phone_numbers[0].as_str(),
        "+493083793369"
    );
    let audit = f.store.audit_log(None, 100, None).await.unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");

    let second = f.applied(&files).await;
    assert!(
        second.contains("tenant demo-salon-berlin: no changes"),
        "{second}"
    );
    assert!(
        second.contains("tenant thames-physio: no changes"),
        "{second}"
    );
    assert!(
        second.contains("applied: 0 of 2 tenants changed"),
        "{second}"
    );
    assert_eq!(
        f.store.audit_log(None, 100, None).await.unwrap().len(),
        2,
        "an unchanged tenant is not written again"
    );
}

#[actix_web::test]
async fn changed_file_plans_exactly_its_changes() {
    let f = Fixture::new().await;
    f.applied(&[f.file("demo.toml", DEMO)]).await;
    let changed = edit(DEMO, "duration_min = 90", "duration_min = 120");
    let changed = edit(
        &changed,
        r#"phone_numbers = ["+493083793369"]"#,
        r#"phone_numbers = ["+493083793369", "+493083793370"]"#,
    );
    let changed = edit(&changed, r#"sat = "10:00-14:00""#, r#"sat = "closed""#);

    let out = f.applied(&[f.file("demo.toml", &changed)]).await;
    let plan: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert_eq!(
        plan,
        [
            "+ branch mitte: phone number +493083793370",
            "~ branch mitte: opening hours mon 09:00-18:00; tue 09:00-18:00; wed 09:00-18:00; \
             thu 09:00-18:00; fri 09:00-18:00; sat closed; sun closed",
            "~ service \"Färben\": 90 min → 120 min",
        ],
        "{out}"
    );
    assert!(
        out.contains("tenant demo-salon-berlin: update, 3 changes"),
        "{out}"
    );
    let again = f.applied(&[f.file("demo.toml", &changed)]).await;
    assert!(again.contains("no changes"), "{again}");
}

#[actix_web::test]
async fn dry_run_writes_nothing() {
    let f = Fixture::new().await;
    let files = [f.file("demo.toml", DEMO), f.file("thames.toml", THAMES)];
    let out = f.apply(&files, true).await.unwrap();
    assert!(out.contains("tenant demo-salon-berlin: create"), "{out}");
    assert!(out.contains("tenant thames-physio: create"), "{out}");
    assert!(out.ends_with("dry run: nothing written\n"), "{out}");
    assert_eq!(f.tenant_count().await, 0);
    assert!(f.store.audit_log(None, 10, None).await.unwrap().is_empty());

    let binary = f
        .run(
            &["tenant", "apply", "--dry-run", "demo.toml", "thames.toml"],
            &[],
        )
        .await;
    assert!(binary.status.success(), "{}", stderr(&binary));
    assert!(stdout(&binary).contains("dry run: nothing written"));
    assert_eq!(f.tenant_count().await, 0);
}

#[actix_web::test]
async fn unknown_key_is_refused_with_file_line_and_key() {
    let f = Fixture::new().await;
    let text = edit(
        DEMO,
        "slug = \"mitte\"\n",
        "slug = \"mitte\"\ncolour = \"blue\"\n",
    );
    let path = f.file("demo.toml", &text);
    let err = f.refused(std::slice::from_ref(&path)).await;
    let at = format!("{}:{}:1: ", path.display(), line_of(&text, "colour"));
    assert!(
        err.starts_with(&format!("{at}branches[0].colour: unknown field `colour`")),
        "{err}"
    );
    assert_eq!(f.tenant_count().await, 0);
}

#[actix_web::test]
async fn number_of_another_tenant_is_refused_with_file_line() {
    let f = Fixture::new().await;
    f.applied(&[f.file("demo.toml", DEMO)]).await;
    let text = edit(
        THAMES,
        r#"phone_numbers = ["+442079460654"]"#,
        r#"phone_numbers = ["+442079460654", "+493083793369"]"#,
    );
    let path = f.file("thames.toml", &text);
    let err = f.refused(std::slice::from_ref(&path)).await;
    let line = line_of(&text, "+493083793369");
    let column = text.lines().nth(line - 1).unwrap().find("\"+4930").unwrap() + 1;
    assert_eq!(
        err,
        format!(
            "{}:{line}:{column}: branches[1].phone_numbers[1]: +493083793369 belongs to \
             tenant demo-salon-berlin",
            path.display()
        )
    );
    assert!(
        f.store
            .tenant(&slug("thames-physio"))
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
}

#[actix_web::test]
async fn unknown_time_zone_is_refused_with_file_line() {
    let f = Fixture::new().await;
    let text = edit(THAMES, "Europe/London", "Europe/Londn");
    let path = f.file("thames.toml", &text);
    let err = f.refused(std::slice::from_ref(&path)).await;
    assert_eq!(
        err,
        format!(
            "{}:{}:13: time_zone: unknown time zone \"Europe/Londn\": use an IANA name such as \
             Europe/Berlin",
            path.display(),
            line_of(&text, "time_zone =")
        )
    );
}

#[actix_web::test]
async fn unmapped_service_is_refused_with_file_line() {
    let f = Fixture::new().await;
    // No id and no slug.
    let text = edit(DEMO, "event_type_id = 1001\n", "");
    let path = f.file("demo.toml", &text);
    let err = f.refused(std::slice::from_ref(&path)).await;
    let at = format!(
        "{}:{}:8: services[0].name: ",
        path.display(),
        line_of(&text, "name = \"Herrenhaarschnitt\"")
    );
    assert!(
        err.starts_with(&format!("{at}service \"Herrenhaarschnitt\" is not mapped")),
        "{err}"
    );

    // A slug the tenant's Cal.com does not have.
    let text = edit(
        DEMO,
        "event_type_id = 1003\n",
        "event_type_slug = \"dauerwelle\"\n",
    );
    let path = f.file("demo.toml", &text);
    let err = f.refused(std::slice::from_ref(&path)).await;
    assert_eq!(
        err,
        format!(
            "{}:{}:19: services[2].event_type_slug: service \"Färben\": no Cal.com event type \
             with slug \"dauerwelle\" (found: herrenhaarschnitt, damenhaarschnitt, faerben)",
            path.display(),
            line_of(&text, "dauerwelle")
        )
    );
    assert_eq!(f.tenant_count().await, 0);
}

#[actix_web::test]
async fn event_type_slug_is_resolved_to_its_id() {
    let f = Fixture::new().await;
    let text = edit(
        DEMO,
        "event_type_id = 1003\n",
        "event_type_slug = \"faerben\"\n",
    );
    let out = f.applied(&[f.file("demo.toml", &text)]).await;
    assert!(
        out.contains("+ service \"Färben\": 90 min, event type 1003 (faerben)"),
        "{out}"
    );
    let demo = f
        .store
        .tenant(&slug("demo-salon-berlin"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(demo.spec.services[2].event_type_id.unwrap().0, 1003);
}

#[actix_web::test]
async fn bad_file_among_several_writes_nothing() {
    let f = Fixture::new().await;
    let good = f.file("demo.toml", DEMO);
    let bad_text = edit(THAMES, "+442079460321", "020 7946 0321");
    let bad = f.file("thames.toml", &bad_text);
    let err = f.refused(&[good, bad.clone()]).await;
    assert!(
        err.starts_with(&format!(
            "{}:{}:",
            bad.display(),
            line_of(&bad_text, "020 7946 0321")
        )),
        "{err}"
    );
    assert!(
        err.contains("branches[0].phone_numbers[0]: \"020 7946 0321\" is not in E.164 form"),
        "{err}"
    );
    assert_eq!(
        f.tenant_count().await,
        0,
        "the good file is not written either"
    );
    assert!(f.store.audit_log(None, 10, None).await.unwrap().is_empty());
}

#[actix_web::test]
async fn same_slug_in_two_files_is_refused_naming_both() {
    let f = Fixture::new().await;
    let first = f.file("demo.toml", DEMO);
    let copy = edit(DEMO, "+493083793369", "+493083793370");
    let second = f.file("copy.toml", &copy);
    let err = f.refused(&[first.clone(), second.clone()]).await;
    assert_eq!(
        err,
        format!(
            "{}:{}:8: slug: tenant demo-salon-berlin is also declared in {}",
            second.display(),
            line_of(&copy, "slug = \"demo-salon-berlin\""),
            first.display()
        )
    );
    assert_eq!(f.tenant_count().await, 0);
}

#[actix_web::test]
async fn file_over_one_mib_is_refused() {
    let f = Fixture::new().await;
    let big = format!("{DEMO}\n#{}\n", "x".repeat(1 << 20));
    let path = f.file("big.toml", &big);
    let err = f.refused(std::slice::from_ref(&path)).await;
    assert_eq!(
        err,
        format!(
            "{}: is larger than 1048576 bytes, the most a tenant file may have",
            path.display()
        )
    );
}

#[actix_web::test]
async fn env_and_file_secrets_are_read_and_never_printed() {
    let f = Fixture::new().await;
    const RETELL: &str = "key_env_s3cret_value_4711";
    const CALCOM: &str = "cal_file_s3cret_value_0815";
    std::fs::create_dir(f.dir.path().join("secrets")).unwrap();
    std::fs::write(f.dir.path().join("secrets/cal.key"), format!("{CALCOM}\n")).unwrap();
    let text = edit(
        THAMES,
        "api_key = \"key_sandbox_thames_7f3a9c2e5b1d4086\"",
        "api_key = \"env:SB_TEST_RETELL_KEY\"",
    );
    let text = edit(
        &text,
        "api_key = \"cal_sandbox_thames_7f3a9c2e5b1d4086\"",
        "api_key = \"file:secrets/cal.key\"",
    );
    f.file("thames.toml", &text);

    let unset = f.run(&["tenant", "apply", "thames.toml"], &[]).await;
    assert_eq!(unset.status.code(), Some(1));
    assert!(
        stderr(&unset)
            .contains("retell.api_key: environment variable SB_TEST_RETELL_KEY is not set"),
        "{}",
        stderr(&unset)
    );

    let env = [("SB_TEST_RETELL_KEY", RETELL)];
    let applied = f.run(&["tenant", "apply", "thames.toml"], &env).await;
    assert!(applied.status.success(), "{}", stderr(&applied));
    let shown = f.run(&["tenant", "show", "thames-physio"], &env).await;
    assert!(shown.status.success(), "{}", stderr(&shown));
    let retell_print = fingerprint(&SecretString::from(RETELL));
    let calcom_print = fingerprint(&SecretString::from(CALCOM));
    assert!(
        stdout(&applied).contains(&format!("+ retell.api_key: set ({retell_print})")),
        "{}",
        stdout(&applied)
    );
    assert!(
        stdout(&shown).contains(&format!("# calcom.api_key: set ({calcom_print})")),
        "{}",
        stdout(&shown)
    );
    for out in [&unset, &applied, &shown] {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(!all.contains("s3cret"), "a secret was printed:\n{all}");
    }
    let stored = f
        .store
        .tenant(&slug("thames-physio"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.credentials.retell_api_key, Some(retell_print));
    assert_eq!(stored.credentials.calcom_api_key, Some(calcom_print));
}

#[actix_web::test]
async fn shown_tenant_applies_again_with_no_changes() {
    let f = Fixture::new().await;
    f.applied(&[f.file("thames.toml", THAMES)]).await;
    let shown = f.run(&["tenant", "show", "thames-physio"], &[]).await;
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(
        text.contains("# calcom.webhook_secret: set (sha256:"),
        "{text}"
    );
    let out = f.applied(&[f.file("shown.toml", &text)]).await;
    assert!(out.contains("tenant thames-physio: no changes"), "{out}");
}

#[actix_web::test]
async fn disable_keeps_data_and_list_shows_it() {
    let f = Fixture::new().await;
    f.file("demo.toml", DEMO);
    f.file("thames.toml", THAMES);
    let applied = f
        .run(&["tenant", "apply", "demo.toml", "thames.toml"], &[])
        .await;
    assert!(applied.status.success(), "{}", stderr(&applied));

    let disabled = f.run(&["tenant", "disable", "thames-physio"], &[]).await;
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert_eq!(stdout(&disabled), "tenant thames-physio disabled\n");
    let list = stdout(&f.run(&["tenant", "list"], &[]).await);
    let thames = list
        .lines()
        .find(|l| l.starts_with("thames-physio"))
        .unwrap();
    assert!(thames.contains("since "), "{list}");
    let demo = list
        .lines()
        .find(|l| l.starts_with("demo-salon-berlin"))
        .unwrap();
    assert!(demo.ends_with("no"), "{list}");
    let columns: Vec<&str> = thames.split_whitespace().collect();
    assert!(
        columns.windows(3).any(|w| w == ["2", "2", "3"]),
        "branches, numbers, services kept: {list}"
    );
    let stored = f
        .store
        .tenant(&slug("thames-physio"))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.disabled_at.is_some());
    assert_eq!(stored.spec.branches.len(), 2);
    assert_eq!(stored.spec.services.len(), 3);
    let shown = stdout(&f.run(&["tenant", "show", "thames-physio"], &[]).await);
    assert!(
        shown.starts_with("# tenant thames-physio (company "),
        "{shown}"
    );
    assert!(shown.contains("disabled since"), "{shown}");

    let audit = f.store.audit_log(Some(stored.id), 10, None).await.unwrap();
    assert_eq!(audit[0].action, "tenant disable", "{audit:?}");
    assert!(audit[0].actor.starts_with("cli:"), "{audit:?}");

    let again = f.run(&["tenant", "disable", "thames-physio"], &[]).await;
    assert_eq!(
        stdout(&again),
        "tenant thames-physio was already disabled\n"
    );
    let enabled = f.run(&["tenant", "enable", "thames-physio"], &[]).await;
    assert_eq!(stdout(&enabled), "tenant thames-physio enabled\n");
    let unknown = f.run(&["tenant", "disable", "no-such-tenant"], &[]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no tenant no-such-tenant"));
}

#[actix_web::test]
async fn sandbox_seeds_both_example_tenants_once() {
    let f = Fixture::new().await;
    let demo = switchboard::sandbox::seed(&f.store, "sandbox-test-token")
        .await
        .unwrap();
    switchboard::sandbox::seed(&f.store, "sandbox-test-token")
        .await
        .unwrap();
    let tenants = f.store.list_tenants().await.unwrap();
    let slugs: Vec<&str> = tenants.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["demo-salon-berlin", "thames-physio"]);
    assert_eq!(tenants[0].id, demo.company_id);
    assert_eq!(tenants[0].name, switchboard::sandbox::DEMO_COMPANY);
    let audit = f.store.audit_log(None, 10, None).await.unwrap();
    assert_eq!(
        audit.len(),
        2,
        "the second start changes nothing: {audit:?}"
    );
    assert!(audit.iter().all(|e| e.actor == "sandbox"), "{audit:?}");
}

#[actix_web::test]
async fn apply_refuses_a_credentials_key_that_dies_with_the_command() {
    let f = Fixture::new().await;
    f.file("demo.toml", DEMO);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["tenant", "apply", "demo.toml"])
        .env("SWITCHBOARD__DATABASE__URL", "sqlite::memory:")
        .env_remove("SWITCHBOARD__SECRETS__KEY")
        .current_dir(f.dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("set SWITCHBOARD__SECRETS__KEY"),
        "{}",
        stderr(&out)
    );
}

#[actix_web::test]
async fn sms_section_is_validated_with_file_lines_and_its_token_never_printed() {
    let f = Fixture::new().await;
    let bad_sid = edit(
        THAMES,
        "account_sid = \"AC00000000000000000000000000000002\"",
        "account_sid = \"AC0002\"",
    );
    let path = f.file("thames.toml", &bad_sid);
    let err = f.refused(std::slice::from_ref(&path)).await;
    assert!(
        err.starts_with(&format!(
            "{}:{}:",
            path.display(),
            line_of(&bad_sid, "account_sid =")
        )) && err.contains("sms.account_sid: \"AC0002\" is not a Twilio Account SID"),
        "{err}"
    );
    let bad_from = edit(
        THAMES,
        "from = \"+447911123456\"",
        "from = \"07911 123456\"",
    );
    let path = f.file("thames.toml", &bad_from);
    let err = f.refused(std::slice::from_ref(&path)).await;
    assert!(
        err.contains("sms.from: \"07911 123456\" is not in E.164 form"),
        "{err}"
    );

    const TOKEN: &str = "twilio_env_s3cret_4711";
    let from_env = edit(
        THAMES,
        "auth_token = \"sandbox_sms_token_thames_physio\"",
        "auth_token = \"env:SB_TEST_TWILIO_TOKEN\"",
    );
    f.file("thames.toml", &from_env);
    let env = [("SB_TEST_TWILIO_TOKEN", TOKEN)];
    let planned = f
        .run(&["tenant", "apply", "--dry-run", "thames.toml"], &env)
        .await;
    let applied = f.run(&["tenant", "apply", "thames.toml"], &env).await;
    assert!(applied.status.success(), "{}", stderr(&applied));
    let shown = f.run(&["tenant", "show", "thames-physio"], &env).await;
    let print = fingerprint(&SecretString::from(TOKEN));
    assert!(
        stdout(&planned).contains(&format!("+ sms.auth_token: set ({print})")),
        "{}",
        stdout(&planned)
    );
    assert!(
        stdout(&shown).contains(&format!("# sms.auth_token: set ({print})")),
        "{}",
        stdout(&shown)
    );
    for out in [&planned, &applied, &shown] {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(!all.contains("s3cret"), "a secret was printed:\n{all}");
    }
}
