//! Test support: the real portal server on a random port, moto's server on
//! another, and the paths of the Python tools the setup script installed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
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

/// The `portal` binary next to the test binary (`target/debug/portal`); scripts/test builds it first.
pub fn portal_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target dir");
    let binary = dir.join("portal");
    assert!(
        binary.exists(),
        "{} is missing: build it first (`cargo build -p server --bin portal`; scripts/test does)",
        binary.display()
    );
    binary
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
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
        Moto { child, endpoint: format!("http://127.0.0.1:{port}") }
    }

    /// An SDK configuration pointing at this moto server, as `AWS_ENDPOINT_URL` would.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config(&self.endpoint).await
    }

    /// Runs a Python script with boto3 (from the venv moto came with) against this server, as
    /// someone changing resources outside the portal would; `client(name)` makes a client. The
    /// script's standard output, parsed as JSON.
    pub fn boto3(&self, script: &str) -> serde_json::Value {
        let python = required_tool("PORTAL_PYTHON");
        let prelude = format!(
            "import boto3, json\n\
             def client(name):\n    return boto3.client(name, endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='test', aws_secret_access_key='test')\n",
            self.endpoint
        );
        let output = Command::new(python).args(["-c", &format!("{prelude}{script}")]).output().expect("python runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "boto3 script failed: {}\n{script}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::String(stdout.trim().to_owned()))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SDK configuration for an endpoint on loopback (moto, or a proxy in front of it).
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new("test", "test", None, None, "moto"))
        .load()
        .await
}

/// What a [`FaultProxy`] answers instead of forwarding: status and XML body.
pub type Fault = (u16, String);

/// Decides, from the request's number (0, 1, …) and body, whether to answer with a fault.
pub type FaultRule = Arc<dyn Fn(usize, &str) -> Option<Fault> + Send + Sync>;

/// AWS's query-protocol error document.
pub fn aws_error(status: u16, code: &str, message: &str) -> Fault {
    (
        status,
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>fault-proxy</RequestId></ErrorResponse>"
        ),
    )
}

/// Every `every`-th request answered with throttling.
pub fn throttle_every(every: usize) -> FaultRule {
    Arc::new(move |n, _| (n % every == every - 1).then(|| aws_error(400, "Throttling", "Rate exceeded")))
}

/// Requests whose body holds every one of `needles` answered with `fault`.
pub fn fault_when(needles: &[&str], fault: Fault) -> FaultRule {
    let needles: Vec<String> = needles.iter().map(|n| (*n).to_owned()).collect();
    Arc::new(move |_, body| needles.iter().all(|n| body.contains(n.as_str())).then(|| fault.clone()))
}

/// A fault-injecting HTTP proxy in front of moto: it delays every request, and answers the ones
/// its rule picks with an error instead of forwarding them.
pub struct FaultProxy {
    pub endpoint: String,
    /// How many requests the rule answered.
    pub faults: Arc<std::sync::atomic::AtomicUsize>,
}

impl FaultProxy {
    pub async fn start(upstream: &str, rule: Option<FaultRule>, delay: Duration) -> FaultProxy {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let seen = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let client = reqwest::Client::new();
        let upstream = upstream.to_owned();
        let counter = faults.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (client, upstream, seen, counter, rule) =
                (client.clone(), upstream.clone(), seen.clone(), counter.clone(), rule.clone());
            async move {
                use axum::response::IntoResponse;
                tokio::time::sleep(delay).await;
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
                if let Some((status, body)) = rule.as_ref().and_then(|r| r(n, &String::from_utf8_lossy(&bytes))) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let status =
                        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
                    return (status, [("content-type", "text/xml")], body).into_response();
                }
                let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let mut forward = client.request(parts.method.clone(), format!("{upstream}{path}")).body(bytes);
                for (name, value) in &parts.headers {
                    if name != "host" {
                        forward = forward.header(name, value);
                    }
                }
                match forward.send().await {
                    Ok(res) => {
                        let status = res.status();
                        let headers = res.headers().clone();
                        let body = res.bytes().await.unwrap_or_default();
                        let mut response = (status, body).into_response();
                        for (name, value) in &headers {
                            if name != "content-length" && name != "transfer-encoding" {
                                response.headers_mut().insert(name, value.clone());
                            }
                        }
                        response
                    }
                    Err(e) => (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FaultProxy { endpoint: format!("http://{addr}"), faults }
    }
}

/// oidc-provider-mock (from PyPI), a real OpenID Connect provider for tests, on a free
/// loopback port; stopped on drop. Any client id and secret are accepted; users and their
/// claims are set with `PUT /users/{sub}`.
pub struct OidcMock {
    child: Child,
    pub issuer: String,
}

impl OidcMock {
    pub fn start() -> OidcMock {
        let python = required_tool("PORTAL_PYTHON");
        let port = free_port();
        let mut child = Command::new(python)
            .args(["-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", &port.to_string(), "--require-nonce"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("oidc-provider-mock starts");
        wait_for_port(port, "oidc-provider-mock", &mut child);
        OidcMock { child, issuer: format!("http://127.0.0.1:{port}") }
    }

    /// Sets the claims the provider puts in `sub`'s ID token.
    pub async fn set_user(&self, sub: &str, claims: serde_json::Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/users/{sub}", self.issuer))
            .json(&claims)
            .send()
            .await
            .expect("oidc mock answers");
        assert_eq!(response.status().as_u16(), 204, "PUT /users/{sub}");
    }
}

impl Drop for OidcMock {
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
    let reachable =
        std::net::TcpStream::connect_timeout(&"127.0.0.1:5432".parse().expect("address"), Duration::from_secs(2))
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
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(0)
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
                    let _ = rt.block_on(server::db::admin_execute(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ));
                }
            })
            .join();
        }
    }
}

/// moto's default account, where sandbox environments are registered.
pub const SANDBOX_ACCOUNT: &str = "123456789012";
/// The deploy role sandbox environments are registered with.
pub const SANDBOX_ROLE: &str = "arn:aws:iam::123456789012:role/portal-deploy";

/// The portal's HTTP server, in-process on a random port, with its own fresh database, built by
/// the same [`server::application::Application`] as `portal serve`; no background task runs
/// unless the test starts it.
pub struct TestPortal {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub portal: Arc<server::web::state::Portal>,
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
        Self::start_configured(backend, aws, |_, _| {}).await
    }

    /// `configure` sees the address the portal will listen on (for its public URL) and may change
    /// the settings before it starts.
    pub async fn start_configured(
        backend: Backend,
        aws: Option<aws_config::SdkConfig>,
        configure: impl FnOnce(SocketAddr, &mut server::settings::Settings),
    ) -> TestPortal {
        let catalog = infra::Catalog::embedded().expect("embedded catalog loads");
        Self::start_serving(TestDatabase::create(backend).await, aws, catalog, configure).await
    }

    /// Serving another catalog than the embedded one (e.g. last month's templates).
    pub async fn start_with_catalog(
        backend: Backend,
        aws: Option<aws_config::SdkConfig>,
        catalog: infra::Catalog,
    ) -> TestPortal {
        Self::start_serving(TestDatabase::create(backend).await, aws, catalog, |_, _| {}).await
    }

    /// Serving `catalog`, with settings `configure` changes.
    pub async fn start_serving_configured(
        backend: Backend,
        aws: Option<aws_config::SdkConfig>,
        catalog: infra::Catalog,
        configure: impl FnOnce(SocketAddr, &mut server::settings::Settings),
    ) -> TestPortal {
        Self::start_serving(TestDatabase::create(backend).await, aws, catalog, configure).await
    }

    /// A new portal on this one's database serving `catalog`, with settings `configure` changes.
    pub async fn upgraded_configured(
        &self,
        aws: Option<aws_config::SdkConfig>,
        catalog: infra::Catalog,
        configure: impl FnOnce(SocketAddr, &mut server::settings::Settings),
    ) -> TestPortal {
        Self::start_serving(self.shared_database(), aws, catalog, configure).await
    }

    /// A new portal on this one's database (same instance, same history) serving `catalog`: the
    /// portal upgraded to other templates. This one's database outlives it.
    pub async fn upgraded(&self, aws: Option<aws_config::SdkConfig>, catalog: infra::Catalog) -> TestPortal {
        Self::start_serving(self.shared_database(), aws, catalog, |_, _| {}).await
    }

    /// A second portal process on this one's database (its own pool, its own `LISTEN`).
    pub async fn beside(
        &self,
        aws: Option<aws_config::SdkConfig>,
        configure: impl FnOnce(SocketAddr, &mut server::settings::Settings),
    ) -> TestPortal {
        let catalog = infra::Catalog::embedded().expect("embedded catalog loads");
        Self::start_serving(self.shared_database(), aws, catalog, configure).await
    }

    /// This portal's database, which this one keeps (and drops).
    fn shared_database(&self) -> TestDatabase {
        TestDatabase { url: self.database.url.clone(), backend: self.database.backend, _dir: None, pg_name: None }
    }

    async fn start_serving(
        database: TestDatabase,
        aws: Option<aws_config::SdkConfig>,
        catalog: infra::Catalog,
        configure: impl FnOnce(SocketAddr, &mut server::settings::Settings),
    ) -> TestPortal {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let mut settings = server::settings::Settings::new(database.url.clone());
        settings.addr = addr;
        settings.site_root = repo_root().join("target/site").display().to_string();
        settings.sandbox = true;
        settings.aws = match aws {
            Some(config) => server::settings::AwsSettings::Given(Box::new(config)),
            None => server::settings::AwsSettings::None,
        };
        settings.background = server::settings::Background::NONE;
        configure(addr, &mut settings);
        let catalog = Arc::new(catalog);
        let application =
            server::application::Application::build_on(catalog, settings, listener).await.expect("portal builds");
        application.start_background();
        let portal = application.portal().clone();
        tokio::spawn(async move {
            let _ = application.run_until_stopped().await;
        });
        TestPortal {
            addr,
            // A hung server fails the test after a minute instead of holding the suite.
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client"),
            portal,
            database,
        }
    }

    /// Runs the rollout engine in this process, with a short lease and quick polling.
    pub fn start_engine(&self) -> Arc<server::rollout::Engine> {
        let config = server::rollout::EngineConfig {
            owner: server::rollout::process_name(),
            lease: Duration::from_secs(3),
            poll: Duration::from_millis(100),
            ..Default::default()
        };
        server::application::spawn_engine(&self.portal, config)
    }

    /// One JSON API call: status and body (the body as a string when it is not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = match method {
            "POST" => self.client.post(self.url(path)),
            "PUT" => self.client.put(self.url(path)),
            _ => self.client.get(self.url(path)),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    /// Signs in through the pages' server function, from the portal's own origin, as a browser
    /// would: the session cookie (`portal_session=…`) if one was set, and the answer's text.
    pub async fn sign_in(&self, name: &str, password: &str) -> (Option<String>, String) {
        let response = self
            .client
            .post(self.url("/rpc/sign_in"))
            .header("origin", self.url(""))
            .form(&[("name", name), ("password", password)])
            .send()
            .await
            .expect("sign in");
        let cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (cookie, response.text().await.unwrap_or_default())
    }

    /// Registers environments in the sandbox account (us-east-1, every tier, the sandbox deploy
    /// role), as an admin would; one registered already is left as it is.
    pub async fn register(&self, names: &[&str]) {
        for name in names {
            self.register_with_role(name, SANDBOX_ROLE).await;
        }
    }

    /// Registers one environment with this deploy role (in the sandbox account, us-east-1, every
    /// tier); returns its ExternalId, or `None` when it was registered already.
    pub async fn register_with_role(&self, name: &str, role_arn: &str) -> Option<String> {
        let registry =
            server::environments::Environments { db: &self.portal.db, catalog: &self.portal.catalog.catalog };
        if registry.find(name).await.expect("registry readable").is_some() {
            return None;
        }
        let input = server::environments::NewEnvironment {
            name: name.to_owned(),
            account_id: SANDBOX_ACCOUNT.to_owned(),
            region: "us-east-1".to_owned(),
            role_arn: role_arn.to_owned(),
            domain_name: None,
            tiers: vec!["development".into(), "production-lite".into(), "full-production".into()],
            requesters: vec![],
            approvers: vec![],
            lifecycle: None,
        };
        let registered =
            registry.register(&server::people::User::operator(), input, None).await.expect("environment registered");
        registered.external_id
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}
