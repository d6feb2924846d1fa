//! A throwaway PgBouncer for tests: Debian's `pgbouncer` binary (installed by `scripts/setup`)
//! started on a free local port with a generated config in a temporary folder, in front of the
//! test PostgreSQL, and stopped (killed, folder removed) when the handle is dropped. Start-up is
//! bounded; a PgBouncer that does not come up fails with its log.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long PgBouncer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Where PgBouncer sends clients.
#[derive(Clone, Debug)]
pub struct Upstream {
    pub host: String,
    pub port: u16,
    pub database: String,
}

/// A running PgBouncer. Dropping it stops the process and removes its folder.
pub struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl PgBouncer {
    /// Starts PgBouncer in transaction pooling mode with `pool_size` server connections per
    /// user and database, letting `users` in without a password (the upstream server trusts local
    /// connections).
    pub fn start(upstream: &Upstream, users: &[&str], pool_size: u32) -> Result<PgBouncer, String> {
        let binary = binary()?;
        let mut last_error = String::new();
        // A free port can be taken between finding it and PgBouncer binding it: try a few.
        for attempt in 0..3 {
            let port = free_port()?;
            let dir = std::env::temp_dir().join(format!("quarry-pgbouncer-{}-{port}-{attempt}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let started = write_config(&dir, upstream, users, pool_size, port).and_then(|config| spawn(&binary, &dir, &config));
            let child = match started {
                Ok(c) => c,
                Err(e) => {
                    let _ = fs::remove_dir_all(&dir);
                    return Err(e);
                }
            };
            let mut bouncer = PgBouncer { child, dir, port };
            match bouncer.wait_until_listening() {
                Ok(()) => return Ok(bouncer),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A `postgres://` URL through this PgBouncer, with `pgbouncer=true` so the native driver
    /// uses unnamed statements only.
    pub fn url(&self, user: &str, database: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{database}?pgbouncer=true", self.port)
    }

    /// PgBouncer's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let ready = format!("listening on 127.0.0.1:{}", self.port);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("pgbouncer exited ({status}) while starting:\n{}", self.log()));
            }
            if self.log().contains(&ready) && TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("pgbouncer did not listen on port {} within {START_TIMEOUT:?}:\n{}", self.port, self.log()));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `$PGBOUNCER`, `pgbouncer` on the PATH, or Debian's `/usr/sbin/pgbouncer`.
fn binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("PGBOUNCER") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join("pgbouncer"))
        .find(|p| p.is_file())
        .ok_or_else(|| "pgbouncer is not installed: run scripts/setup (Debian package pgbouncer) or set PGBOUNCER".to_owned())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free local port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// PgBouncer refuses to run as root; a root test run hands it to the `postgres` (or `nobody`) user.
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

fn unprivileged_user() -> &'static str {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    if passwd.lines().any(|l| l.starts_with("postgres:")) { "postgres" } else { "nobody" }
}

fn write_config(dir: &Path, upstream: &Upstream, users: &[&str], pool_size: u32, port: u16) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| format!("cannot write the pgbouncer config in {}: {e}", dir.display());
    let auth_file = dir.join("users.txt");
    let users_text: String = users.iter().map(|u| format!("\"{}\" \"\"\n", u.replace('"', "\"\""))).collect();
    fs::write(&auth_file, users_text).map_err(io)?;
    let switch_user = if running_as_root() { format!("user = {}\n", unprivileged_user()) } else { String::new() };
    let config = format!(
        "[databases]\n\
         {db} = host={host} port={upstream_port} dbname={db}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {auth}\n\
         pool_mode = transaction\n\
         default_pool_size = {pool_size}\n\
         min_pool_size = 0\n\
         reserve_pool_size = 0\n\
         max_client_conn = 100\n\
         server_login_retry = 1\n\
         ignore_startup_parameters = extra_float_digits\n\
         {switch_user}",
        db = upstream.database,
        host = upstream.host,
        upstream_port = upstream.port,
        auth = auth_file.display(),
    );
    let path = dir.join("pgbouncer.ini");
    fs::write(&path, config).map_err(io)?;
    // Readable by the unprivileged user PgBouncer switches to.
    for p in [dir, auth_file.as_path(), path.as_path()] {
        let mode = if p == dir { 0o755 } else { 0o644 };
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).map_err(io)?;
    }
    Ok(path)
}

fn spawn(binary: &Path, dir: &Path, config: &Path) -> Result<Child, String> {
    let log = fs::File::create(dir.join("pgbouncer.log")).map_err(|e| format!("cannot create the pgbouncer log: {e}"))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(binary)
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))
}
