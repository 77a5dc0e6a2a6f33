//! `TestApp::spawn()`: a fresh database per test (a SQLite temp file, or a new PostgreSQL
//! database when `TEST_DATABASE_URL` is set), the real `App` served over real HTTP on a
//! random port, and a blocking client with helpers.

use ladder::Application;
use ladder::config::Config;
use ladder::domain::Role;
use reqwest::Method;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::sync::OnceLock;

pub const PASSWORD: &str = "correct-horse-battery-staple";

/// One hash of [`PASSWORD`] for every test user: hashing is deliberately slow.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| ladder::auth::password::hash_blocking(PASSWORD).unwrap())
}

enum Db {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub state: Application,
    pub base: String,
    pub client: Client,
    handle: Option<actix_web::dev::ServerHandle>,
    db: Db,
}

fn pg_admin(url: &str, sql: &str) {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut c = diesel::pg::PgConnection::establish(url)
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    c.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn with_db_name(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{name}")
}

impl TestApp {
    pub fn spawn() -> TestApp {
        Self::spawn_with(|_| {})
    }

    pub fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let (url, db) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("ladder_test_{}", uuid::Uuid::new_v4().simple());
                pg_admin(&admin, &format!("CREATE DATABASE {name}"));
                (
                    with_db_name(&admin, &name),
                    Db::Postgres {
                        admin_url: admin,
                        name,
                    },
                )
            }
            _ => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
                let path = dir.path().join("ladder.db");
                (path.to_string_lossy().to_string(), Db::Sqlite(dir))
            }
        };
        let mut config = Config::for_tests(&url);
        tweak(&mut config);
        let state = Application::prepare(config).unwrap_or_else(|e| panic!("preparing app: {e:#}"));
        let st = state.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            let r = sys.block_on(async move {
                let server = actix_web::HttpServer::new(move || ladder::app(st.clone()))
                    .workers(2)
                    .disable_signals()
                    .bind(("127.0.0.1", 0))?;
                let addr = server.addrs()[0];
                let server = server.run();
                let _ = tx.send((addr, server.handle()));
                server.await
            });
            if let Err(e) = r {
                eprintln!("test server stopped: {e}");
            }
        });
        let (addr, handle) = rx
            .recv()
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        let client = Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        TestApp {
            state,
            base: format!("http://{addr}"),
            client,
            handle: Some(handle),
            db,
        }
    }

    pub fn conn(&self) -> ladder::db::PooledConn {
        self.state
            .pool
            .get()
            .unwrap_or_else(|e| panic!("pool: {e}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb.send().unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body))
    }

    pub fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PUT, path, Some(token), Some(body))
    }

    /// Creates a user directly (no HTTP), with [`PASSWORD`].
    pub fn user(&self, username: &str, role: Role, enterprise_id: Option<i32>) -> i32 {
        let mut c = self.conn();
        ladder::services::users::create_user(
            &mut c,
            &ladder::services::policy::Caller::system("test"),
            username,
            password_hash(),
            role,
            enterprise_id,
        )
        .unwrap_or_else(|e| panic!("creating {username}: {e:?}"))
        .id
    }

    /// Creates an enterprise directly; returns its id.
    pub fn enterprise(&self, uscc: &str, name: &str, district: &str) -> i32 {
        let mut c = self.conn();
        let input = ladder::services::enterprises::NewEnterpriseInput {
            uscc: uscc.into(),
            name: name.into(),
            district_code: district.into(),
            cluster_code: Some("equipment".into()),
            founded_on: chrono::NaiveDate::from_ymd_opt(2010, 1, 1),
            niche_entered_on: chrono::NaiveDate::from_ymd_opt(2012, 1, 1),
            verified: true,
        };
        ladder::services::enterprises::create(
            &mut c,
            &ladder::services::policy::Caller::system("test"),
            &input,
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
        .id
    }

    pub fn login(&self, username: &str) -> String {
        self.login_full(username)["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn login_full(&self, username: &str) -> Value {
        let r = self.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": PASSWORD}),
        );
        assert_eq!(r.status(), 200, "login {username}");
        r.json().unwrap()
    }

    /// An admin, signed in.
    pub fn admin(&self) -> String {
        self.user("root", Role::Admin, None);
        self.login("root")
    }

    /// The id of the first published rule set of `tier` (a shipped one).
    pub fn published_ruleset(&self, token: &str, tier: &str) -> i64 {
        body(self.get(
            &format!("/api/v1/rulesets?tier={tier}&status=published"),
            token,
        ))["items"][0]["id"]
            .as_i64()
            .unwrap_or(0)
    }
}

/// A small draft rule set, far in the future so publishing it overlaps nothing; each version
/// gets its own year.
pub fn ruleset_draft(version: i64) -> Value {
    json!({"tier": "innovative_sme", "version": version, "name": "test draft", "effective_from": format!("{}-01-01", 2100 - version % 50 - 1),
        "effective_to": format!("{}-12-31", 2100 - version % 50 - 1), "status": "draft",
        "criteria": [{"id": "revenue", "label_zh": "营业收入", "label_en": "Revenue", "source": "test", "confirmed": true,
                      "test": {"cmp": [{"fact": "operating_revenue", "year": -1}, ">=", 1000]}}]})
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            actix_web::rt::System::new().block_on(h.stop(false));
        }
        if let Db::Postgres { admin_url, name } = &self.db {
            // Close our pool first so the database can be dropped.
            let _ = std::mem::replace(
                &mut self.state.pool,
                ladder::db::connect(":memory:", 1).unwrap_or_else(|e| panic!("{e}")),
            );
            pg_admin(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// Reads a JSON body.
pub fn body(r: Response) -> Value {
    r.json().unwrap_or(Value::Null)
}

/// Valid credit codes for test enterprises (check characters computed, GB 32100).
pub fn uscc(n: u32) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91210106{n:09}");
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| (ALPHABET.iter().position(|a| *a == b).unwrap_or(0) as u32) * w)
        .sum();
    let check = ALPHABET[((31 - sum % 31) % 31) as usize] as char;
    format!("{body}{check}")
}
