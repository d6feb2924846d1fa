//! The native driver against the real PostgreSQL in `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`): values round-trip, errors keep their SQLSTATE,
//! transactions commit and roll back, and a dropped transaction never poisons the pool.

use quarry_engine::exec::{DbValue, Driver, DriverError, IsolationLevel, Queryable, Transaction};
use quarry_engine::value::{Value, parse_datetime};
use quarry_postgres::PgDriver;

fn url(extra: &str) -> String {
    let base = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let sep = if base.contains('?') { '&' } else { '?' };
    if extra.is_empty() { base } else { format!("{base}{sep}{extra}") }
}

/// A driver and a fresh schema of its own, dropped by `cleanup`.
async fn setup(name: &str, extra: &str) -> (PgDriver, String) {
    let ns = format!("drv_{name}_{}", std::process::id());
    let driver = PgDriver::connect(&url(extra)).await.expect("connect");
    driver.execute(&format!("DROP SCHEMA IF EXISTS \"{ns}\" CASCADE"), &[]).await.expect("drop");
    driver.execute(&format!("CREATE SCHEMA \"{ns}\""), &[]).await.expect("create schema");
    (driver, ns)
}

async fn cleanup(driver: &PgDriver, ns: &str) {
    driver.execute(&format!("DROP SCHEMA IF EXISTS \"{ns}\" CASCADE"), &[]).await.expect("cleanup");
}

#[tokio::test]
async fn values_round_trip() {
    let (d, ns) = setup("values", "").await;
    d.execute(&format!("CREATE TYPE \"{ns}\".mood AS ENUM ('happy', 'sad')"), &[]).await.unwrap();
    d.execute(
        &format!(
            "CREATE TABLE \"{ns}\".t (i int4, b int8, f float8, n numeric, s text, e \"{ns}\".mood, ts timestamp(3), tz timestamptz, d date, j jsonb, bytes bytea, tags text[], ints int4[], u uuid, ok bool)"
        ),
        &[],
    )
    .await
    .unwrap();
    let dt = parse_datetime("2024-05-06T07:08:09.123Z").unwrap();
    let params = vec![
        Value::Int(-42),
        Value::BigInt(9007199254740993),
        Value::Float(1.5e-7),
        Value::Decimal("12345678901234567890.123456789".into()),
        Value::String("it's \"quoted\" \\ ok".into()),
        Value::Enum("sad".into()),
        Value::DateTime(dt),
        Value::DateTime(dt),
        Value::DateTime(parse_datetime("2024-05-06").unwrap()),
        Value::Json(r#"{"a":[1,2,{"b":null}]}"#.into()),
        Value::Bytes(vec![0, 1, 255]),
        Value::List(vec![Value::String("a,b".into()), Value::Null, Value::String("{x}".into())]),
        Value::List(vec![Value::Int(1), Value::Int(2)]),
        Value::String("00000000-0000-4000-8000-00000000000a".into()),
        Value::Boolean(true),
    ];
    let rs = d
        .query(
            &format!("INSERT INTO \"{ns}\".t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING *"),
            &params,
        )
        .await
        .unwrap();
    let row = &rs.rows[0];
    assert_eq!(row[0], DbValue::Int(-42));
    assert_eq!(row[1], DbValue::Int(9007199254740993));
    assert_eq!(row[2], DbValue::Float(1.5e-7));
    assert_eq!(row[3], DbValue::Text("12345678901234567890.123456789".into()));
    assert_eq!(row[4], DbValue::Text("it's \"quoted\" \\ ok".into()));
    assert_eq!(row[5], DbValue::Text("sad".into()));
    assert_eq!(row[6], DbValue::DateTime(dt));
    assert_eq!(row[7], DbValue::DateTime(dt));
    assert_eq!(row[8], DbValue::DateTime(parse_datetime("2024-05-06").unwrap()));
    assert_eq!(row[9], DbValue::Text(r#"{"a": [1, 2, {"b": null}]}"#.into()));
    assert_eq!(row[10], DbValue::Bytes(vec![0, 1, 255]));
    assert_eq!(row[11], DbValue::List(vec![DbValue::Text("a,b".into()), DbValue::Null, DbValue::Text("{x}".into())]));
    assert_eq!(row[12], DbValue::List(vec![DbValue::Int(1), DbValue::Int(2)]));
    assert_eq!(row[13], DbValue::Text("00000000-0000-4000-8000-00000000000a".into()));
    assert_eq!(row[14], DbValue::Bool(true));
    // Numerics of every shape come back exactly.
    for n in ["0", "-0.05", "0.000012", "10000", "-12345.6789", "1e-20", "NaN"] {
        let rs = d.query("SELECT $1::numeric", &[Value::Decimal(n.into())]).await.unwrap();
        let expected = psql_numeric(&d, n).await;
        assert_eq!(rs.rows[0][0], DbValue::Text(expected), "{n}");
    }
    // Nulls of any type.
    let rs = d.query(&format!("INSERT INTO \"{ns}\".t (i, j) VALUES ($1, $2) RETURNING i, j"), &[Value::Null, Value::Null]).await.unwrap();
    assert_eq!(rs.rows[0], vec![DbValue::Null, DbValue::Null]);
    cleanup(&d, &ns).await;
}

async fn psql_numeric(d: &PgDriver, n: &str) -> String {
    let rs = d.query("SELECT $1::numeric::text", &[Value::String(n.into())]).await.unwrap();
    match &rs.rows[0][0] {
        DbValue::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn errors_keep_sqlstate_and_names() {
    let (d, ns) = setup("errors", "").await;
    d.execute(&format!("CREATE TABLE \"{ns}\".p (id int PRIMARY KEY, email text NOT NULL UNIQUE)"), &[]).await.unwrap();
    d.execute(&format!("CREATE TABLE \"{ns}\".c (id int PRIMARY KEY, p int REFERENCES \"{ns}\".p(id))"), &[]).await.unwrap();
    d.execute(&format!("INSERT INTO \"{ns}\".p VALUES (1, 'a')"), &[]).await.unwrap();
    let e = d.execute(&format!("INSERT INTO \"{ns}\".p VALUES (2, 'a')"), &[]).await.unwrap_err();
    assert!(matches!(&e, DriverError::Database { sqlstate, constraint: Some(c), .. } if sqlstate == "23505" && c == "p_email_key"), "{e:?}");
    let e = d.execute(&format!("INSERT INTO \"{ns}\".c VALUES (1, 99)"), &[]).await.unwrap_err();
    assert!(matches!(&e, DriverError::Database { sqlstate, .. } if sqlstate == "23503"), "{e:?}");
    let e = d.execute(&format!("INSERT INTO \"{ns}\".p VALUES (3, NULL)"), &[]).await.unwrap_err();
    assert!(matches!(&e, DriverError::Database { sqlstate, column: Some(c), .. } if sqlstate == "23502" && c == "email"), "{e:?}");
    let e = d.query("SELEC 1", &[]).await.unwrap_err();
    assert!(matches!(&e, DriverError::Database { sqlstate, .. } if sqlstate == "42601"), "{e:?}");
    cleanup(&d, &ns).await;
}

#[tokio::test]
async fn transactions_commit_roll_back_and_set_isolation() {
    let (d, ns) = setup("tx", "").await;
    d.execute(&format!("CREATE TABLE \"{ns}\".t (id int)"), &[]).await.unwrap();
    let tx = d.begin(Some(IsolationLevel::Serializable)).await.unwrap();
    let rs = tx.query("SHOW transaction_isolation", &[]).await.unwrap();
    assert_eq!(rs.rows[0][0], DbValue::Text("serializable".into()));
    tx.execute(&format!("INSERT INTO \"{ns}\".t VALUES (1)"), &[]).await.unwrap();
    tx.commit().await.unwrap();
    let tx = d.begin(None).await.unwrap();
    tx.execute(&format!("INSERT INTO \"{ns}\".t VALUES (2)"), &[]).await.unwrap();
    tx.rollback().await.unwrap();
    let rs = d.query(&format!("SELECT id FROM \"{ns}\".t ORDER BY id"), &[]).await.unwrap();
    assert_eq!(rs.rows, vec![vec![DbValue::Int(1)]]);
    cleanup(&d, &ns).await;
}

#[tokio::test]
async fn a_dropped_transaction_does_not_poison_the_pool() {
    let (d, ns) = setup("poison", "connection_limit=1").await;
    d.execute(&format!("CREATE TABLE \"{ns}\".t (id int)"), &[]).await.unwrap();
    {
        let tx = d.begin(None).await.unwrap();
        tx.execute(&format!("INSERT INTO \"{ns}\".t VALUES (1)"), &[]).await.unwrap();
        tx.execute("SET LOCAL statement_timeout = 1", &[]).await.unwrap();
        // Dropped without commit or rollback.
    }
    // The only connection of the pool is a fresh one: no open transaction, no row.
    let rs = d.query("SELECT pg_current_xact_id_if_assigned() IS NULL, current_setting('statement_timeout')", &[]).await.unwrap();
    assert_eq!(rs.rows[0], vec![DbValue::Bool(true), DbValue::Text("0".into())], "a new query must not run inside the old transaction");
    let rs = d.query(&format!("SELECT count(*) FROM \"{ns}\".t"), &[]).await.unwrap();
    assert_eq!(rs.rows[0][0], DbValue::Int(0));
    cleanup(&d, &ns).await;
}

#[tokio::test]
async fn begin_with_runs_its_first_statement_inside_the_transaction() {
    for extra in ["connection_limit=1", "connection_limit=1&pgbouncer=true"] {
        let d = PgDriver::connect(&url(extra)).await.unwrap();
        let set = "SELECT set_config('quarry.test_setting', $1, true)";
        let tx = d.begin_with(Some(IsolationLevel::RepeatableRead), set, &[Value::String("inside".into())]).await.unwrap();
        let rs = tx.query("SELECT current_setting('quarry.test_setting', true), current_setting('transaction_isolation')", &[]).await.unwrap();
        assert_eq!(rs.rows[0], vec![DbValue::Text("inside".into()), DbValue::Text("repeatable read".into())], "{extra}");
        tx.commit().await.unwrap();
        let rs = d.query("SELECT coalesce(current_setting('quarry.test_setting', true), '')", &[]).await.unwrap();
        assert_eq!(rs.rows[0][0], DbValue::Text(String::new()), "{extra}: the setting ended with the transaction");

        // A failing first statement fails the call; the pool's only connection is not handed
        // out again inside the aborted transaction (where every query would fail with 25P02).
        let e = d.begin_with(None, "SELECT 1 / $1::int", &[Value::Int(0)]).await.map(|_| ()).unwrap_err();
        assert!(matches!(&e, DriverError::Database { sqlstate, .. } if sqlstate == "22012"), "{extra}: {e:?}");
        let rs = d.query("SELECT 1", &[]).await.unwrap_or_else(|e| panic!("{extra}: {e:?}"));
        assert_eq!(rs.rows[0][0], DbValue::Int(1));
    }
}

#[tokio::test]
async fn the_pool_times_out() {
    let d = PgDriver::connect(&url("connection_limit=1&pool_timeout=0.2")).await.unwrap();
    let tx = d.begin(None).await.unwrap();
    let e = d.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(e, DriverError::PoolTimeout { connection_limit: Some(1), timeout_secs: Some(0.2) });
    tx.rollback().await.unwrap();
    d.query("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn the_url_schema_comes_first_on_the_search_path() {
    // An awkward name: a space and a double quote survive the startup option's escaping.
    let ns = format!("drv search \"path\" {}", std::process::id());
    let encoded = ns.replace(' ', "%20").replace('"', "%22");
    let d = PgDriver::connect(&url(&format!("schema={encoded}"))).await.expect("connect");
    let rs = d.query("SHOW search_path", &[]).await.expect("show");
    let quoted = format!("\"{}\"", ns.replace('"', "\"\""));
    assert_eq!(rs.rows[0][0], DbValue::Text(format!("{quoted},public")));
    // The default schema and PgBouncer mode leave the server's search path alone.
    let plain = PgDriver::connect(&url("")).await.expect("connect");
    assert_eq!(plain.query("SHOW search_path", &[]).await.expect("show").rows[0][0], DbValue::Text("\"$user\", public".into()));
}

#[tokio::test]
async fn pgbouncer_mode_uses_unnamed_statements() {
    let d = PgDriver::connect(&url("pgbouncer=true")).await.unwrap();
    for i in 0..3 {
        let rs = d.query("SELECT $1::int + 1, $2::text", &[Value::Int(i), Value::String("x".into())]).await.unwrap();
        assert_eq!(rs.rows[0], vec![DbValue::Int(i + 1), DbValue::Text("x".into())]);
    }
    let rs = d.query("SELECT count(*) FROM pg_prepared_statements", &[]).await.unwrap();
    assert_eq!(rs.rows[0][0], DbValue::Int(0));
    assert_eq!(d.execute("SELECT generate_series(1, $1::int)", &[Value::Int(4)]).await.unwrap(), 4);
}

#[test]
fn driver_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let d = rt.block_on(PgDriver::connect(&url(""))).unwrap();
    is_send(&d.query("SELECT 1", &[]));
    is_send(&d.begin(None));
}

/// Whether the connection `d` hands out is encrypted, as the server sees it.
async fn encrypted(d: &PgDriver) -> Result<bool, DriverError> {
    let rs = d.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await?;
    Ok(rs.rows.first().and_then(|r| r.first()) == Some(&DbValue::Bool(true)))
}

/// The server's own certificate, read through SQL (so this works wherever the server runs), in a
/// temporary PEM file.
async fn server_certificate() -> std::path::PathBuf {
    let d = PgDriver::connect(&url("sslmode=disable")).await.expect("connect");
    let rs = d.query("SELECT current_setting('ssl'), pg_read_file(current_setting('ssl_cert_file'))", &[]).await.expect("read certificate");
    let row = rs.rows.first().expect("a row");
    assert_eq!(row[0], DbValue::Text("on".into()), "the TLS tests need the PostgreSQL server to run with ssl = on");
    let DbValue::Text(pem) = &row[1] else { panic!("certificate is not text: {:?}", row[1]) };
    let path = std::env::temp_dir().join(format!("quarry-server-cert-{}.pem", std::process::id()));
    std::fs::write(&path, pem).expect("write certificate");
    path
}

/// `url` with its host replaced.
fn with_host(url: &str, host: &str) -> String {
    let mut u = url::Url::parse(url).expect("url");
    u.set_host(Some(host)).expect("host");
    u.to_string()
}

#[tokio::test]
async fn sslmode_require_encrypts_and_disable_does_not() {
    let cert = server_certificate().await;
    let _ = std::fs::remove_file(cert);
    let tls = PgDriver::connect(&url("sslmode=require")).await.expect("connect");
    assert!(encrypted(&tls).await.expect("query over TLS"), "sslmode=require gave a plain connection");
    let plain = PgDriver::connect(&url("sslmode=disable")).await.expect("connect");
    assert!(!encrypted(&plain).await.expect("query"), "sslmode=disable gave an encrypted connection");
}

#[tokio::test]
async fn verification_refuses_an_untrusted_certificate() {
    // The local server's certificate is self-signed: not in the Mozilla roots.
    let d = PgDriver::connect(&url("sslmode=verify-full")).await.expect("connect is lazy");
    match encrypted(&d).await {
        Err(DriverError::Connection(m)) => assert!(m.to_lowercase().contains("certificate"), "{m}"),
        other => panic!("an untrusted certificate was accepted: {other:?}"),
    }
    let d = PgDriver::connect(&url("sslmode=verify-ca")).await.expect("connect is lazy");
    assert!(matches!(encrypted(&d).await, Err(DriverError::Connection(_))), "verify-ca accepted an untrusted certificate");
}

#[tokio::test]
async fn verification_with_a_root_certificate() {
    let cert = server_certificate().await;
    let root = cert.to_string_lossy().into_owned();
    // The certificate names `localhost`: verify-ca ignores the name, verify-full compares it.
    let ca = PgDriver::connect(&url(&format!("sslmode=verify-ca&sslrootcert={root}"))).await.expect("connect");
    assert!(encrypted(&ca).await.expect("verify-ca with the server's certificate as root"));
    let by_name = PgDriver::connect(&with_host(&url(&format!("sslmode=verify-full&sslrootcert={root}")), "localhost")).await.expect("connect");
    assert!(encrypted(&by_name).await.expect("verify-full against the name in the certificate"));
    let by_ip = PgDriver::connect(&with_host(&url(&format!("sslmode=verify-full&sslrootcert={root}")), "127.0.0.1")).await.expect("connect");
    assert!(matches!(encrypted(&by_ip).await, Err(DriverError::Connection(_))), "verify-full accepted a certificate for another name");
    // Prisma's spelling of the root certificate parameter.
    let prisma = PgDriver::connect(&url(&format!("sslmode=require&sslcert={root}"))).await.expect("connect");
    assert!(encrypted(&prisma).await.expect("sslcert as the root certificate"));
    let _ = std::fs::remove_file(cert);
}

/// What a developer checks when connecting fails is in the error: where (host and port, the
/// database, the user), and for a refused login the server's reason; never the password.
#[tokio::test]
async fn connection_errors_say_where() {
    let mut unreachable = url::Url::parse(&url("connect_timeout=3")).unwrap();
    unreachable.set_port(Some(1)).unwrap();
    let d = PgDriver::connect(unreachable.as_str()).await.expect("lazy");
    match d.query("SELECT 1", &[]).await {
        Err(DriverError::Connection(m)) => assert!(m.contains(":1") && m.contains("database `"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut missing = url::Url::parse(&url("")).unwrap();
    missing.set_path("/quarry_no_such_database");
    missing.set_password(Some("hunter2-secret")).unwrap();
    let d = PgDriver::connect(missing.as_str()).await.expect("lazy");
    match d.query("SELECT 1", &[]).await {
        Err(DriverError::Database { sqlstate, message, .. }) => {
            assert_eq!(sqlstate, "3D000");
            assert!(message.contains("quarry_no_such_database") && message.contains("connecting to"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
