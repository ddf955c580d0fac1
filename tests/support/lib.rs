//! Test support: the real portal server on a random port, moto's server on
//! another, and the paths of the Python tools the setup script installed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A tool the setup script installs; its absence is a broken setup, never a skip.
pub fn required_tool(var: &str) -> PathBuf {
    let path = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with scripts/test, which installs the tools and sets it")
    });
    let path = PathBuf::from(path);
    assert!(path.exists(), "{var} points at {}, which does not exist", path.display());
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on port {port} within 60 s");
}

/// moto's server, through the project's launcher, on a free loopback port; stopped on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let python = required_tool("PORTAL_PYTHON");
        let port = free_port();
        let mut child = Command::new(python)
            .arg(repo_root().join("tools/sandbox/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto launcher starts");
        wait_for_port(port, "moto", &mut child);
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// An SDK configuration pointing at this moto server, as `AWS_ENDPOINT_URL` would.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("PORTAL_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// SQLite always; PostgreSQL when it answers. Under CI (`CI=true`) PostgreSQL is required.
pub fn backends() -> Vec<Backend> {
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().expect("address"),
        Duration::from_secs(2),
    )
    .is_ok();
    if reachable {
        return vec![Backend::Sqlite, Backend::Postgres];
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("PostgreSQL is not reachable on 127.0.0.1:5432, and CI requires it");
    }
    eprintln!("SKIPPING the PostgreSQL runs: nothing answers on 127.0.0.1:5432 (CI=true makes this a failure)");
    vec![Backend::Sqlite]
}

/// A fresh, empty database of the given kind; PostgreSQL ones are dropped on drop.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("portal.db").display());
                TestDatabase { url, backend, _dir: Some(dir), pg_name: None }
            }
            Backend::Postgres => {
                use std::sync::atomic::{AtomicU32, Ordering};
                static COUNTER: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "portal_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
                );
                let admin = postgres_admin_url();
                server::db::admin_execute(&admin, &format!("CREATE DATABASE {name}")).await.expect("create database");
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
                TestDatabase { url: format!("{base}/{name}"), backend, _dir: None, pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = postgres_admin_url();
            // Best effort, on a thread of its own: Drop cannot be async.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    let _ = rt.block_on(server::db::admin_execute(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
                }
            })
            .join();
        }
    }
}

/// The portal's HTTP server, in-process on a random port, with its own fresh database.
pub struct TestPortal {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub portal: Arc<server::state::Portal>,
    pub database: TestDatabase,
}

impl TestPortal {
    pub async fn start() -> TestPortal {
        Self::start_on(Backend::Sqlite).await
    }

    pub async fn start_on(backend: Backend) -> TestPortal {
        Self::start_with(backend, None).await
    }

    /// With an AWS SDK configuration (moto's, in tests).
    pub async fn start_with(backend: Backend, aws: Option<aws_config::SdkConfig>) -> TestPortal {
        let database = TestDatabase::create(backend).await;
        let db = server::db::Database::connect(&database.url).await.expect("database opens");
        let catalog = Arc::new(infra::Catalog::embedded().expect("embedded catalog loads"));
        let service = Arc::new(server::views::CatalogService::new(catalog, true));
        let mut portal = server::state::Portal::new(service, db, Default::default());
        portal.aws = aws;
        let portal = Arc::new(portal);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let router = server::http::router(portal.clone(), leptos_options(addr));
        tokio::spawn(async move {
            let _ = axum_serve(listener, router).await;
        });
        TestPortal {
            addr,
            client: reqwest::Client::new(),
            portal,
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

fn leptos_options(addr: SocketAddr) -> server::http::LeptosOptions {
    server::http::leptos_options(addr, &repo_root().join("target/site").display().to_string())
}

async fn axum_serve(listener: tokio::net::TcpListener, router: server::http::Router) -> std::io::Result<()> {
    server::http::serve_on(listener, router).await
}
