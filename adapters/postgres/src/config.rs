//! Connection strings: `postgres://` URLs with Prisma's query parameters (`schema`,
//! `connection_limit`, `pool_timeout`, `connect_timeout`, `pgbouncer`, `sslmode`, `sslcert` /
//! `sslrootcert`, `sslaccept`, `application_name`).

use quarry_engine::exec::DriverError;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    /// TLS when the server offers it (the default, as in libpq and Prisma).
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

#[derive(Clone, Debug)]
pub struct ConnectionOptions {
    pub pg: tokio_postgres::Config,
    pub schema: String,
    pub connection_limit: usize,
    /// How long a request waits for a free connection; `None` (`pool_timeout=0`) waits as long
    /// as it takes.
    pub pool_timeout: Option<Duration>,
    /// How long opening a connection may take; `None` (`connect_timeout=0`) has no limit.
    pub connect_timeout: Option<Duration>,
    /// PgBouncer in transaction mode: no named prepared statements.
    pub pgbouncer: bool,
    pub ssl_mode: SslMode,
    /// A PEM file of root certificates to trust instead of the Mozilla set (`sslrootcert`, or
    /// Prisma's `sslcert`).
    pub root_cert: Option<String>,
    /// `sslaccept=accept_invalid_certs`: encrypt without checking the certificate.
    pub accept_invalid_certs: bool,
}

fn invalid(message: impl Into<String>) -> DriverError {
    DriverError::Other(format!("invalid connection string: {}", message.into()))
}

/// The longest timeout a URL may give: a day.
const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

/// A timeout in seconds (fractions allowed), 0 for none, as Prisma reads it.
fn seconds(value: &str, key: &str) -> Result<Option<Duration>, DriverError> {
    let s = value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=MAX_TIMEOUT_SECONDS).contains(s))
        .ok_or_else(|| invalid(format!("{key} must be a number of seconds from 0 (no timeout) to 86400")))?;
    Ok(if s == 0.0 { None } else { Duration::try_from_secs_f64(s).ok() })
}

impl ConnectionOptions {
    pub fn parse(url: &str) -> Result<ConnectionOptions, DriverError> {
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(invalid("the scheme must be postgres:// or postgresql://"));
        }
        let mut pg = tokio_postgres::Config::new();
        let host = parsed.host_str().filter(|h| !h.is_empty()).unwrap_or("localhost");
        pg.host(host.trim_start_matches('[').trim_end_matches(']'));
        pg.port(parsed.port().unwrap_or(5432));
        let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
        if !parsed.username().is_empty() {
            pg.user(decode(parsed.username()));
        }
        if let Some(p) = parsed.password() {
            pg.password(decode(p));
        }
        let db = parsed.path().trim_start_matches('/');
        if !db.is_empty() {
            pg.dbname(decode(db));
        }
        let mut options = ConnectionOptions {
            pg,
            schema: "public".into(),
            connection_limit: std::thread::available_parallelism().map_or(4, |n| n.get() * 2 + 1),
            pool_timeout: Some(Duration::from_secs(10)),
            connect_timeout: Some(Duration::from_secs(5)),
            pgbouncer: false,
            ssl_mode: SslMode::Prefer,
            root_cert: None,
            accept_invalid_certs: false,
        };
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "schema" => options.schema = value.into_owned(),
                "connection_limit" => {
                    options.connection_limit = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| invalid("connection_limit must be a positive integer"))?
                }
                "pool_timeout" => options.pool_timeout = seconds(&value, "pool_timeout")?,
                "connect_timeout" => options.connect_timeout = seconds(&value, "connect_timeout")?,
                "pgbouncer" => options.pgbouncer = value == "true",
                "sslmode" => {
                    options.ssl_mode = match value.as_ref() {
                        "disable" => SslMode::Disable,
                        "prefer" | "allow" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => return Err(invalid(format!("unknown sslmode {other}"))),
                    }
                }
                "sslrootcert" | "sslcert" => options.root_cert = Some(value.into_owned()),
                "sslaccept" => {
                    options.accept_invalid_certs = match value.as_ref() {
                        "accept_invalid_certs" => true,
                        "strict" => false,
                        other => return Err(invalid(format!("unknown sslaccept {other}"))),
                    }
                }
                "application_name" => {
                    options.pg.application_name(value.as_ref());
                }
                // Accepted for compatibility with Prisma URLs; not used here.
                "sslidentity" | "sslpassword" | "statement_cache_size" | "socket_timeout" | "options" => {}
                other => return Err(invalid(format!("unknown parameter {other}"))),
            }
        }
        // Unqualified names resolve in `schema` first, as with Prisma (public stays behind it, for
        // extensions' types and functions): raw SQL naming other tables of that schema finds them.
        // PgBouncer in transaction mode refuses startup options; the engine's own SQL names the
        // schema's tables with their schema anyway.
        if options.schema != "public" && !options.pgbouncer {
            let quoted = format!("\"{}\"", options.schema.replace('"', "\"\""));
            let escaped = format!("{quoted},public").replace('\\', "\\\\").replace(' ', "\\ ");
            options.pg.options(format!("-c search_path={escaped}"));
        }
        if let Some(t) = options.connect_timeout {
            options.pg.connect_timeout(t);
        }
        options.pg.ssl_mode(match options.ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prisma_style_urls() {
        let o = ConnectionOptions::parse(
            "postgresql://us%40er:p%2Fss@db.example.com:6543/app?schema=tenant_a&connection_limit=3&pool_timeout=2.5&connect_timeout=1&pgbouncer=true&sslmode=require",
        )
        .unwrap();
        assert_eq!(o.schema, "tenant_a");
        assert_eq!(o.connection_limit, 3);
        assert_eq!(o.pool_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(o.connect_timeout, Some(Duration::from_secs(1)));
        assert!(o.pgbouncer);
        assert_eq!(o.ssl_mode, SslMode::Require);
        let verify = ConnectionOptions::parse("postgres://x@y/z?sslmode=verify-full&sslrootcert=ca.pem").unwrap();
        assert_eq!((verify.ssl_mode, verify.root_cert.as_deref()), (SslMode::VerifyFull, Some("ca.pem")));
        let accept = ConnectionOptions::parse("postgres://x@y/z?sslmode=require&sslaccept=accept_invalid_certs").unwrap();
        assert!(accept.accept_invalid_certs);
        assert_eq!(o.pg.get_user(), Some("us@er"));
        assert_eq!(o.pg.get_password(), Some(&b"p/ss"[..]));
        assert_eq!(o.pg.get_dbname(), Some("app"));
        assert_eq!(o.pg.get_ports(), &[6543]);
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(ConnectionOptions::parse("mysql://x@y/z").is_err());
        assert!(ConnectionOptions::parse("postgres://x@y/z?connection_limit=0").is_err());
        assert!(ConnectionOptions::parse("postgres://x@y/z?sslmode=sometimes").is_err());
        assert!(ConnectionOptions::parse("postgres://x@y/z?nope=1").is_err());
        assert!(ConnectionOptions::parse("not a url").is_err());
    }

    /// Timeouts are seconds, at most a day; infinite, huge, negative or non-numeric values are an
    /// error (not a panic), and 0 means no timeout, as with Prisma.
    #[test]
    fn timeouts_out_of_range_are_errors_and_zero_is_none() {
        for key in ["pool_timeout", "connect_timeout"] {
            for bad in ["inf", "infinity", "-inf", "NaN", "1e20", "18446744073709551616", "-1", "86401", "", "x", "1e-400x"] {
                let url = format!("postgres://x@y/z?{key}={bad}");
                let e = std::panic::catch_unwind(|| ConnectionOptions::parse(&url)).unwrap_or_else(|_| panic!("panicked on {url}"));
                let e = e.expect_err(&url);
                assert!(format!("{e:?}").contains(key), "{url}: {e:?}");
            }
            let zero = ConnectionOptions::parse(&format!("postgres://x@y/z?{key}=0")).unwrap();
            let day = ConnectionOptions::parse(&format!("postgres://x@y/z?{key}=86400")).unwrap();
            let (zero, day) = match key {
                "pool_timeout" => (zero.pool_timeout, day.pool_timeout),
                _ => (zero.connect_timeout, day.connect_timeout),
            };
            assert_eq!((zero, day), (None, Some(Duration::from_secs(86_400))), "{key}");
        }
        let zero = ConnectionOptions::parse("postgres://x@y/z?connect_timeout=0").unwrap();
        assert_eq!(zero.pg.get_connect_timeout(), None);
    }
}
