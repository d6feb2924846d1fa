//! Row-level security, the second wall, against the real PostgreSQL in `DATABASE_URL` (whose role
//! must be able to create roles; the default `postgres` is a superuser).
//!
//! Each test creates its own PostgreSQL schema, owned by a fresh non-superuser role, applies the
//! engine's DDL, a seed and the engine's RLS statements as that owner, and then works as a second
//! fresh role that is neither the owner nor a superuser nor BYPASSRLS — what an application should
//! connect as. Schemas and roles are dropped afterwards, also when a test fails. The tests prove
//! that the database itself refuses another tenant's rows to raw SQL sent straight through the
//! driver (the first wall, the scope pass, is not in the path), that an unset setting sees nothing,
//! that composite keys refuse links to another tenant's rows, that RLS mode's requests work end to
//! end, and that a pooled connection — a pool of one, and PgBouncer in transaction mode — never
//! carries one request's tenant into the next through errors, rollbacks and timeouts.

use futures_util::FutureExt;
use quarry_conformance::{self as corpus, pgbouncer};
use quarry_engine::exec::transactions::{Transactions, TxOptions};
use quarry_engine::exec::{BatchResult, BatchStatement, DbValue, Dialect, Driver, DriverError, DriverResult, IsolationLevel, Queryable, ResultSet, Transaction};
use quarry_engine::scope::{TenantContext, rls};
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::{ConnectionOptions, PgDriver, PgTransaction};
use serde_json::{Value as Json, json};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `DATABASE_URL` logged in as `user` (no password: the test server trusts local connections),
/// with extra query parameters.
fn url_as(user: &str, extra: &str) -> String {
    let base = corpus::database_url();
    let (scheme, rest) = base.split_once("://").expect("DATABASE_URL is a postgres:// URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let url = format!("{scheme}://{user}@{host}");
    with_params(&url, extra)
}

fn with_params(url: &str, extra: &str) -> String {
    if extra.is_empty() {
        return url.to_owned();
    }
    format!("{url}{}{extra}", if url.contains('?') { '&' } else { '?' })
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A schema owned by a non-superuser role, seeded and secured, plus the application role.
struct Fixture {
    admin: PgDriver,
    ns: String,
    owner: String,
    app: String,
    extra_roles: Mutex<Vec<String>>,
}

impl Fixture {
    async fn create(name: &str) -> Fixture {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let suffix = format!("{name}_{}_{nanos}", std::process::id());
        let admin = PgDriver::connect(&corpus::database_url()).await.expect("connect as DATABASE_URL's role");
        let fx = Fixture {
            admin,
            ns: format!("rls_{suffix}"),
            owner: format!("quarry_owner_{suffix}"),
            app: format!("quarry_app_{suffix}"),
            extra_roles: Mutex::new(Vec::new()),
        };
        for sql in [
            format!("CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS", quoted(&fx.owner)),
            format!("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE", quoted(&fx.app)),
            format!("CREATE SCHEMA {} AUTHORIZATION {}", quoted(&fx.ns), quoted(&fx.owner)),
        ] {
            if let Err(e) = fx.admin.execute(&sql, &[]).await {
                fx.cleanup().await;
                panic!("{sql}: {e:?}");
            }
        }
        if let Err(e) = fx.install().await {
            fx.cleanup().await;
            panic!("{e}");
        }
        fx
    }

    /// As the owner: tables, seed, then row-level security; the application role gets plain
    /// table privileges.
    async fn install(&self) -> Result<(), String> {
        let engine = self.engine(false);
        let (ns, app) = (quoted(&self.ns), quoted(&self.app));
        let mut statements = vec![format!("SET LOCAL ROLE {}", quoted(&self.owner)), format!("SET LOCAL search_path TO {ns}")];
        statements.extend(quarry_engine::ddl::create_statements(engine.schema(), Some(&self.ns)));
        statements.extend(corpus::split_sql(&corpus::read_file("fixtures/rls/seed.sql")));
        statements.extend(quarry_engine::ddl::rls_statements(engine.schema(), Some(&self.ns)));
        statements.push(format!("GRANT USAGE ON SCHEMA {ns} TO {app}"));
        statements.push(format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {ns} TO {app}"));
        statements.push(format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {ns} TO {app}"));
        self.as_owner(&statements).await
    }

    async fn as_owner(&self, statements: &[String]) -> Result<(), String> {
        let tx = self.admin.begin(None).await.map_err(|e| format!("begin: {e:?}"))?;
        for sql in std::iter::once(&format!("SET LOCAL ROLE {}", quoted(&self.owner))).chain(statements) {
            if let Err(e) = tx.query(sql, &[]).await {
                let _ = tx.rollback().await;
                return Err(format!("{sql}: {e:?}"));
            }
        }
        tx.commit().await.map_err(|e| format!("commit: {e:?}"))
    }

    async fn cleanup(&self) {
        let mut statements = vec![format!("DROP SCHEMA IF EXISTS {} CASCADE", quoted(&self.ns))];
        let extra = self.extra_roles.lock().map(|r| r.clone()).unwrap_or_default();
        for role in [&self.app, &self.owner].into_iter().chain(extra.iter()) {
            statements.push(format!("DROP ROLE IF EXISTS {}", quoted(role)));
        }
        for sql in statements {
            if let Err(e) = self.admin.execute(&sql, &[]).await {
                eprintln!("cleanup: {sql}: {e:?}");
            }
        }
        self.admin.close();
    }

    fn engine(&self, rls: bool) -> Engine {
        let schema = corpus::read_file("fixtures/rls/schema.prisma");
        Engine::new(&schema, EngineOptions { namespace: Some(self.ns.clone()), rls, ..Default::default() }).expect("schema")
    }

    /// A driver logged in as the application role.
    async fn app_driver(&self, extra: &str) -> PgDriver {
        PgDriver::connect(&url_as(&self.app, extra)).await.expect("connect as the application role")
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{}", quoted(&self.ns), quoted(name))
    }

    /// A transaction on `d` that has set `tenant` the way RLS mode does.
    async fn tenant_tx(&self, d: &PgDriver, tenant: &str) -> PgTransaction {
        let tx = d.begin(None).await.expect("begin");
        tx.query(rls::SET_TENANT_SQL, &[Value::String(tenant.into())]).await.expect("set the tenant");
        tx
    }
}

/// Runs a test body on a fresh fixture and always cleans up.
async fn with_fixture(name: &str, body: impl AsyncFnOnce(&Fixture)) {
    let fx = Fixture::create(name).await;
    let outcome = AssertUnwindSafe(body(&fx)).catch_unwind().await;
    fx.cleanup().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn tenant(id: i64) -> TenantContext {
    TenantContext::Tenant(Value::Int(id))
}

fn int(v: &DbValue) -> i64 {
    match v {
        DbValue::Int(i) => *i,
        other => panic!("expected an integer, got {other:?}"),
    }
}

async fn ints<Q: Queryable>(q: &Q, sql: &str) -> Vec<i64> {
    let rs = q.query(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    rs.rows.iter().map(|r| int(&r[0])).collect()
}

async fn count<Q: Queryable>(q: &Q, table: &str) -> i64 {
    ints(q, &format!("SELECT count(*) FROM {table}")).await[0]
}

async fn affected<Q: Queryable>(q: &Q, sql: &str) -> u64 {
    q.execute(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}

/// The SQLSTATE (and constraint) a statement fails with.
fn db_error<T: std::fmt::Debug>(r: DriverResult<T>, sql: &str) -> (String, Option<String>) {
    match r {
        Err(DriverError::Database { sqlstate, constraint, .. }) => (sqlstate, constraint),
        other => panic!("{sql}: expected a database error, got {other:?}"),
    }
}

/// Runs `sql` as tenant `t` in its own transaction (rolled back) and returns how it failed.
async fn refused(fx: &Fixture, d: &PgDriver, t: &str, sql: &str) -> (String, Option<String>) {
    let tx = fx.tenant_tx(d, t).await;
    let outcome = db_error(tx.execute(sql, &[]).await, sql);
    let _ = tx.rollback().await;
    outcome
}

const SCOPED_TABLES: [&str; 6] = ["Tenant", "User", "Category", "Tag", "Post", "_PostToTag"];

#[tokio::test]
async fn the_database_refuses_other_tenants_rows_to_raw_sql() {
    with_fixture("raw", async |fx| {
        let app = fx.app_driver("").await;
        let (post, user, category, tag, link, tenant_t) =
            (fx.table("Post"), fx.table("User"), fx.table("Category"), fx.table("Tag"), fx.table("_PostToTag"), fx.table("Tenant"));

        // Reads: raw SQL naming tenant 2's rows, sent by the driver with tenant 1 set.
        let tx = fx.tenant_tx(&app, "1").await;
        assert_eq!(ints(&tx, &format!("SELECT id FROM {post} ORDER BY id")).await, [1, 2]);
        assert_eq!(ints(&tx, &format!("SELECT count(*) FROM {post} WHERE \"tenantId\" = 2 OR id IN (3, 4)")).await, [0]);
        assert_eq!(ints(&tx, &format!("SELECT p.id FROM {post} p JOIN {user} u ON u.id = p.\"authorId\" ORDER BY p.id")).await, [1, 2]);
        assert_eq!(ints(&tx, &format!("SELECT id FROM {user} ORDER BY id")).await, [1, 2]);
        assert_eq!(ints(&tx, &format!("SELECT id FROM {tenant_t}")).await, [1], "the tenant model shows its own row only");
        assert_eq!(ints(&tx, &format!("SELECT id FROM {category} ORDER BY id")).await, [1, 2], "shared rows and the tenant's own");
        assert_eq!(ints(&tx, &format!("SELECT id FROM {tag}")).await, [1]);
        assert_eq!(ints(&tx, &format!("SELECT \"A\" FROM {link}")).await, [1], "links between visible rows only");

        // Writes aimed at tenant 2's rows, or at shared rows, reach nothing.
        for sql in [
            format!("UPDATE {post} SET title = 'stolen' WHERE id = 3"),
            format!("DELETE FROM {post} WHERE \"tenantId\" = 2"),
            format!("UPDATE {category} SET name = 'renamed' WHERE id = 1"),
            format!("DELETE FROM {category} WHERE \"tenantId\" IS NULL"),
            format!("DELETE FROM {link} WHERE \"A\" = 3"),
            format!("UPDATE {tenant_t} SET name = 'renamed' WHERE id = 2"),
        ] {
            assert_eq!(affected(&tx, &sql).await, 0, "{sql}");
        }
        // The tenant's own rows are writable.
        assert_eq!(affected(&tx, &format!("UPDATE {post} SET title = 'edited' WHERE id IN (1, 3)")).await, 1);
        tx.rollback().await.unwrap();

        // Rows that would belong to another tenant, or to nobody, are refused outright.
        for sql in [
            format!("INSERT INTO {post} (\"tenantId\", title, \"authorId\") VALUES (2, 'planted', 3)"),
            format!("UPDATE {post} SET \"tenantId\" = 2 WHERE id = 1"),
            format!("INSERT INTO {category} (\"tenantId\", name) VALUES (NULL, 'shared by a tenant')"),
            format!("UPDATE {category} SET \"tenantId\" = NULL WHERE id = 2"),
            format!("INSERT INTO {link} (\"A\", \"B\") VALUES (1, 2)"),
            format!("INSERT INTO {link} (\"A\", \"B\") VALUES (3, 1)"),
            format!("INSERT INTO {tenant_t} (id, name) VALUES (50, 'new')"),
        ] {
            let (state, _) = refused(fx, &app, "1", &sql).await;
            assert_eq!(state, "42501", "{sql}: expected a row-level security violation");
        }

        // Tenant 2's data is untouched.
        let titles = fx.admin.query(&format!("SELECT string_agg(title, ',' ORDER BY id) FROM {post} WHERE \"tenantId\" = 2"), &[]).await.unwrap();
        assert_eq!(titles.rows[0][0], DbValue::Text("Globex launch,Globex secrets".into()));
        assert_eq!(count(&fx.admin, &post).await, 4);
        assert_eq!(count(&fx.admin, &category).await, 3);
        assert_eq!(count(&fx.admin, &link).await, 2);
        app.close();
    })
    .await;
}

#[tokio::test]
async fn without_the_setting_nothing_is_visible() {
    with_fixture("unset", async |fx| {
        let app = fx.app_driver("").await;
        for t in SCOPED_TABLES {
            assert_eq!(count(&app, &fx.table(t)).await, 0, "{t} without a tenant");
        }
        // Set to empty: the same.
        let tx = fx.tenant_tx(&app, "").await;
        assert_eq!(count(&tx, &fx.table("Post")).await, 0);
        assert_eq!(count(&tx, &fx.table("Category")).await, 0, "shared rows need a tenant too");
        tx.rollback().await.unwrap();
        let sql = format!("INSERT INTO {} (\"tenantId\", title, \"authorId\") VALUES (1, 'x', 1)", fx.table("Post"));
        assert_eq!(db_error(app.execute(&sql, &[]).await, &sql).0, "42501");

        // FORCE ROW LEVEL SECURITY holds the owner to the policies too; only a superuser (here
        // the test's admin role) or a BYPASSRLS role sees past them.
        let tx = fx.admin.begin(None).await.unwrap();
        tx.execute(&format!("SET LOCAL ROLE {}", quoted(&fx.owner)), &[]).await.unwrap();
        assert_eq!(count(&tx, &fx.table("Post")).await, 0, "the owner without a tenant");
        tx.rollback().await.unwrap();
        assert_eq!(count(&fx.admin, &fx.table("Post")).await, 4);
        app.close();
    })
    .await;
}

#[tokio::test]
async fn composite_keys_refuse_links_to_other_tenants_rows() {
    with_fixture("fk", async |fx| {
        let app = fx.app_driver("").await;
        let post = fx.table("Post");
        // User 3 belongs to tenant 2. Foreign-key checks do not see policies: only the composite
        // key stops the link.
        let (state, constraint) = refused(fx, &app, "1", &format!("INSERT INTO {post} (\"tenantId\", title, \"authorId\") VALUES (1, 'x', 3)")).await;
        assert_eq!((state.as_str(), constraint.as_deref()), ("23503", Some("Post_authorId_tenant_fkey")));
        let (state, constraint) = refused(fx, &app, "1", &format!("UPDATE {post} SET \"editorId\" = 4 WHERE id = 1")).await;
        assert_eq!((state.as_str(), constraint.as_deref()), ("23503", Some("Post_editorId_tenant_fkey")));
        // Even a superuser, to whom no policy applies, cannot write the link.
        let sql = format!("INSERT INTO {post} (\"tenantId\", title, \"authorId\") VALUES (1, 'x', 3)");
        assert_eq!(db_error(fx.admin.execute(&sql, &[]).await, &sql).1.as_deref(), Some("Post_authorId_tenant_fkey"));
        // Through the engine (unscoped, so the scope pass does not stop it first) it is P2003 on
        // the relation's field.
        let create = json!({"model": "Post", "action": "create", "args": {"data": {"tenantId": 1, "title": "x", "authorId": 3}}});
        let e = fx.engine(false).request(&fx.admin, &create, &TenantContext::Unscoped).await.unwrap_err();
        assert_eq!(e.code(), "P2003", "{e:?}");
        assert_eq!(e.meta().get("field_name"), Some(&json!("authorId")), "{e:?}");

        // Links inside the tenant, and to a shared row, still work.
        let tx = fx.tenant_tx(&app, "1").await;
        let sql = format!("INSERT INTO {post} (\"tenantId\", title, \"authorId\", \"editorId\", \"categoryId\") VALUES (1, 'ok', 2, 1, 1)");
        assert_eq!(affected(&tx, &sql).await, 1);
        tx.rollback().await.unwrap();

        // The relations' referential actions are unchanged: deleting user 2 deletes the post it
        // wrote (Cascade) and clears it as editor (SetNull) without touching the tenant column.
        affected(&fx.admin, &format!("DELETE FROM {} WHERE id = 2", fx.table("User"))).await;
        let rs = fx.admin.query(&format!("SELECT id, \"tenantId\", \"editorId\" FROM {post} ORDER BY id"), &[]).await.unwrap();
        let rows: Vec<Vec<DbValue>> = rs.rows;
        let expected = [[1, 1, -1], [3, 2, -1], [4, 2, 3]];
        assert_eq!(rows.len(), expected.len(), "{rows:?}");
        for (row, want) in rows.iter().zip(expected) {
            let got: Vec<i64> = row.iter().map(|v| if *v == DbValue::Null { -1 } else { int(v) }).collect();
            assert_eq!(got, want, "{rows:?}");
        }
        app.close();
    })
    .await;
}

#[tokio::test]
async fn rls_mode_runs_requests_end_to_end() {
    with_fixture("mode", async |fx| {
        let app = fx.app_driver("").await;
        let engine = fx.engine(true);
        assert_eq!(engine.rls_warnings(&app).await.unwrap(), vec![], "the application role is subject to RLS");

        let posts = json!({"model": "Post", "action": "findMany", "args": {
            "orderBy": {"id": "asc"},
            "select": {"id": true, "title": true, "author": {"select": {"email": true}}, "tags": {"select": {"name": true}}, "category": {"select": {"name": true}}}
        }});
        let got = engine.request(&app, &posts, &tenant(1)).await.unwrap();
        assert_eq!(
            got,
            json!([
                {"id": 1, "title": "Acme launch", "author": {"email": "alice@acme.test"}, "tags": [{"name": "red"}], "category": {"name": "General"}},
                {"id": 2, "title": "Acme draft", "author": {"email": "bob@acme.test"}, "tags": [], "category": {"name": "Acme only"}}
            ])
        );
        let categories = json!({"model": "Category", "action": "count"});
        assert_eq!(engine.request(&app, &categories, &tenant(2)).await.unwrap(), json!(2));

        // Writes, nested ones included.
        let create = json!({"model": "Post", "action": "create", "args": {
            "data": {"title": "New", "author": {"connect": {"id": 1}}, "tags": {"connect": [{"id": 1}]}},
            "select": {"tenantId": true, "tags": {"select": {"id": true}}}
        }});
        assert_eq!(engine.request(&app, &create, &tenant(1)).await.unwrap(), json!({"tenantId": 1, "tags": [{"id": 1}]}));
        let foreign = json!({"model": "Post", "action": "create", "args": {"data": {"title": "New", "author": {"connect": {"id": 1}}, "tags": {"connect": [{"id": 2}]}}}});
        assert_eq!(engine.request(&app, &foreign, &tenant(1)).await.unwrap_err().code(), "P2025");
        let rename = json!({"model": "Post", "action": "updateMany", "args": {"data": {"title": "renamed"}}});
        assert_eq!(engine.request(&app, &rename, &tenant(2)).await.unwrap(), json!({"count": 2}));
        let titles = json!({"model": "Post", "action": "findMany", "args": {"select": {"title": true}, "orderBy": {"id": "asc"}}});
        assert_eq!(engine.request(&app, &titles, &tenant(1)).await.unwrap(), json!([{"title": "Acme launch"}, {"title": "Acme draft"}, {"title": "New"}]));

        // A batch, and an interactive transaction whose requests each set their own tenant.
        let batch = [json!({"model": "Post", "action": "count"}), json!({"model": "Tag", "action": "findMany", "args": {"select": {"name": true}}})];
        assert_eq!(engine.batch(&app, &batch, &tenant(2), None).await.unwrap(), json!([2, [{"name": "blue"}]]));
        let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
        let id = txs.begin(&app, engine.schema(), TxOptions::default(), |ms| tokio::time::sleep(Duration::from_millis(ms))).await.unwrap();
        let tags = json!({"model": "Tag", "action": "findMany", "args": {"select": {"name": true}}});
        assert_eq!(txs.request(&id, &engine, Dialect::Postgres, &tags, &tenant(1)).await.unwrap(), json!([{"name": "red"}]));
        let setting = txs.with(&id, async |tx| Ok(tx.query("SELECT current_setting('app.current_tenant_id', true)", &[]).await.unwrap())).await.unwrap();
        assert_eq!(setting.rows[0][0], DbValue::Text("1".into()));
        assert_eq!(txs.request(&id, &engine, Dialect::Postgres, &tags, &tenant(2)).await.unwrap(), json!([{"name": "blue"}]));
        txs.commit(&id, engine.schema()).await.unwrap();

        // Two walls: the scope predicate is still in the statement, after the setting.
        let compiled = engine.compile(&tags, &tenant(1), Dialect::Postgres).unwrap();
        assert_eq!(compiled["statements"][0], json!({"sql": rls::SET_TENANT_SQL, "params": ["1"]}));
        assert!(compiled["statements"][1]["sql"].as_str().unwrap().contains("\"tenantId\" = $"), "{compiled}");

        // The mode is what makes the database cooperate: without it the application role sees
        // nothing, and so does an unscoped request (admin work needs a role that bypasses RLS).
        assert_eq!(fx.engine(false).request(&app, &titles, &tenant(1)).await.unwrap(), json!([]));
        let all = json!({"model": "Post", "action": "count"});
        assert_eq!(engine.request(&app, &all, &TenantContext::Unscoped).await.unwrap(), json!(0));
        assert_eq!(fx.engine(false).request(&fx.admin, &all, &TenantContext::Unscoped).await.unwrap(), json!(5));
        app.close();
    })
    .await;
}

#[tokio::test]
async fn the_role_check_warns_when_rls_would_not_apply() {
    with_fixture("roles", async |fx| {
        let (rls_engine, plain) = (fx.engine(true), fx.engine(false));
        let app = fx.app_driver("").await;
        assert!(rls_engine.rls_warnings(&app).await.unwrap().is_empty());

        let is_superuser = fx.admin.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[]).await.unwrap();
        if is_superuser.rows[0][0] == DbValue::Bool(true) {
            let w = rls_engine.rls_warnings(&fx.admin).await.unwrap();
            assert_eq!(w.len(), 1, "{w:?}");
            assert_eq!(w[0].code, "W3001");
        }
        let bypass = format!("{}_bypass", fx.app);
        fx.extra_roles.lock().unwrap().push(bypass.clone());
        fx.admin.execute(&format!("CREATE ROLE {} LOGIN NOSUPERUSER BYPASSRLS", quoted(&bypass)), &[]).await.unwrap();
        let d = PgDriver::connect(&url_as(&bypass, "")).await.unwrap();
        let w = rls_engine.rls_warnings(&d).await.unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].code, "W3002");
        assert_eq!(w[0].meta.get("role"), Some(&json!(bypass)));
        // Outside RLS mode there is nothing to check.
        assert!(plain.rls_warnings(&fx.admin).await.unwrap().is_empty());
        d.close();
        app.close();
    })
    .await;
}

#[tokio::test]
async fn the_rls_statements_are_complete_and_can_run_again() {
    with_fixture("ddl", async |fx| {
        fx.as_owner(&quarry_engine::ddl::rls_statements(fx.engine(false).schema(), Some(&fx.ns))).await.expect("second run");
        let rs = fx
            .admin
            .query(
                "SELECT c.relname::text, c.relrowsecurity AND c.relforcerowsecurity, (SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1",
                &[Value::String(fx.ns.clone())],
            )
            .await
            .unwrap();
        let mut expected: Vec<&str> = SCOPED_TABLES.to_vec();
        expected.sort();
        let tables: Vec<String> = rs.rows.iter().map(|r| match &r[0] { DbValue::Text(s) => s.clone(), v => panic!("{v:?}") }).collect();
        assert_eq!(tables, expected);
        for row in &rs.rows {
            assert_eq!(row[1], DbValue::Bool(true), "{row:?}: RLS enabled and forced");
            assert_eq!(int(&row[2]), 4, "{row:?}: four policies");
        }
    })
    .await;
}

/// Statements a driver was given, with their parameters.
type Log = Arc<Mutex<Vec<(String, Vec<Value>)>>>;

/// A driver that records the statements it is given, to count what a request costs.
#[derive(Clone)]
struct Recorder<'a> {
    inner: &'a PgDriver,
    log: Log,
}

struct RecordedTx {
    inner: PgTransaction,
    log: Log,
}

fn record(log: &Log, sql: &str, params: &[Value]) {
    log.lock().unwrap().push((sql.to_owned(), params.to_vec()));
}

impl Queryable for Recorder<'_> {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        record(&self.log, sql, params);
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        record(&self.log, sql, params);
        self.inner.execute(sql, params).await
    }
}

impl Driver for Recorder<'_> {
    type Transaction = RecordedTx;
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    async fn begin(&self, isolation: Option<IsolationLevel>) -> DriverResult<RecordedTx> {
        record(&self.log, "BEGIN", &[]);
        Ok(RecordedTx { inner: self.inner.begin(isolation).await?, log: self.log.clone() })
    }
}

impl Queryable for RecordedTx {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        record(&self.log, sql, params);
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        record(&self.log, sql, params);
        self.inner.execute(sql, params).await
    }
}

impl Transaction for RecordedTx {
    async fn commit(self) -> DriverResult<()> {
        record(&self.log, "COMMIT", &[]);
        self.inner.commit().await
    }
    async fn rollback(self) -> DriverResult<()> {
        record(&self.log, "ROLLBACK", &[]);
        self.inner.rollback().await
    }
}

#[tokio::test]
async fn scoping_costs_no_statement_and_rls_mode_one_transaction() {
    with_fixture("cost", async |fx| {
        let request = json!({"model": "Post", "action": "findMany", "args": {"select": {"id": true}, "orderBy": {"id": "asc"}}});
        // Default mode: one statement, the tenant predicate inside it, no transaction.
        let default = Recorder { inner: &fx.admin, log: Default::default() };
        assert_eq!(fx.engine(false).request(&default, &request, &tenant(1)).await.unwrap(), json!([{"id": 1}, {"id": 2}]));
        let log = default.log.lock().unwrap().clone();
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(log[0].0.contains("\"tenantId\" = $1"), "{log:?}");
        assert_eq!(log[0].1, [Value::Int(1)]);

        // RLS mode: the same statement inside a transaction that first sets the tenant, bound.
        let app = fx.app_driver("").await;
        let rls_mode = Recorder { inner: &app, log: Default::default() };
        assert_eq!(fx.engine(true).request(&rls_mode, &request, &tenant(1)).await.unwrap(), json!([{"id": 1}, {"id": 2}]));
        let rls_log = rls_mode.log.lock().unwrap().clone();
        let texts: Vec<&str> = rls_log.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(texts, ["BEGIN", rls::SET_TENANT_SQL, log[0].0.as_str(), "COMMIT"]);
        assert_eq!(rls_log[1].1, [Value::String("1".into())]);
        app.close();
    })
    .await;
}

/// A driver like Neon's HTTP one: no transaction held open across calls, but a list of statements
/// known up front runs as one transaction in one call. Here that call is a transaction on a real
/// connection: statements that return rows are read with `query`, the others with `execute`.
struct Batcher<'a> {
    inner: &'a PgDriver,
    log: Log,
}

impl Queryable for Batcher<'_> {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        record(&self.log, sql, params);
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        record(&self.log, sql, params);
        self.inner.execute(sql, params).await
    }
}

impl Driver for Batcher<'_> {
    type Transaction = PgTransaction;
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    async fn begin(&self, _: Option<IsolationLevel>) -> DriverResult<PgTransaction> {
        record(&self.log, "BEGIN (refused)", &[]);
        Err(DriverError::Other("no transaction can be held open".into()))
    }
    fn can_batch(&self) -> bool {
        true
    }
    async fn run_batch(&self, isolation: Option<IsolationLevel>, statements: &[BatchStatement]) -> DriverResult<Vec<BatchResult>> {
        record(&self.log, "BATCH", &[]);
        let tx = self.inner.begin(isolation).await?;
        let mut results = Vec::new();
        for s in statements {
            record(&self.log, &s.sql, &s.params);
            let rows = s.sql.starts_with("SELECT") || s.sql.starts_with("WITH") || s.sql.contains(" RETURNING ");
            let result = if rows {
                tx.query(&s.sql, &s.params).await.map(|rows| BatchResult { affected: rows.rows.len() as u64, rows })
            } else {
                tx.execute(&s.sql, &s.params).await.map(|affected| BatchResult { rows: ResultSet::default(), affected })
            };
            match result {
                Ok(r) => results.push(r),
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            }
        }
        tx.commit().await?;
        Ok(results)
    }
}

#[tokio::test]
async fn rls_mode_runs_static_requests_as_one_batch_on_a_driver_without_transactions() {
    with_fixture("batch", async |fx| {
        let app = fx.app_driver("").await;
        let engine = fx.engine(true);
        let batcher = Batcher { inner: &app, log: Default::default() };
        let texts = |b: &Batcher| b.log.lock().unwrap().iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();

        // A batch: one call, the tenant setting first, then each request's statement.
        let batch = [
            json!({"model": "Post", "action": "count"}),
            json!({"model": "Tag", "action": "findMany", "args": {"select": {"name": true}}}),
            json!({"model": "Post", "action": "updateMany", "args": {"data": {"title": "batched"}}}),
        ];
        assert_eq!(engine.batch(&batcher, &batch, &tenant(2), None).await.unwrap(), json!([2, [{"name": "blue"}], {"count": 2}]));
        let log = batcher.log.lock().unwrap().clone();
        assert_eq!(log.len(), 5, "{log:?}");
        assert_eq!((log[0].0.as_str(), log[1].0.as_str()), ("BATCH", rls::SET_TENANT_SQL));
        assert_eq!(log[1].1, [Value::String("2".into())]);

        // A single request in RLS mode takes the same path, so the database's policies apply.
        batcher.log.lock().unwrap().clear();
        let titles = json!({"model": "Post", "action": "findMany", "args": {"select": {"title": true}, "orderBy": {"id": "asc"}}});
        assert_eq!(engine.request(&batcher, &titles, &tenant(1)).await.unwrap(), json!([{"title": "Acme launch"}, {"title": "Acme draft"}]));
        assert_eq!(texts(&batcher)[..2], ["BATCH", rls::SET_TENANT_SQL]);

        // A write whose statements depend on earlier rows is refused before anything runs.
        batcher.log.lock().unwrap().clear();
        let nested = json!({"model": "Post", "action": "create", "args": {"data": {"title": "New", "author": {"connect": {"id": 1}}, "tags": {"connect": [{"id": 1}]}}}});
        assert_eq!(engine.request(&batcher, &nested, &tenant(1)).await.unwrap_err().code(), "Q4001");
        assert_eq!(texts(&batcher), ["BEGIN (refused)"]);

        // The batch wrote tenant 2's posts and nothing else.
        let all = json!({"model": "Post", "action": "findMany", "args": {"select": {"tenantId": true, "title": true}, "orderBy": {"id": "asc"}}});
        let everything = fx.engine(false).request(&fx.admin, &all, &TenantContext::Unscoped).await.unwrap();
        for post in everything.as_array().unwrap() {
            assert_eq!(post["title"] == "batched", post["tenantId"] == 2, "{everything}");
        }
        app.close();
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Pooled connections.

/// What a connection shows outside any transaction: the setting and how many posts the
/// application role sees. Clean is no setting and no posts.
async fn leftover(fx: &Fixture, d: &PgDriver) -> (Option<String>, i64) {
    let sql = format!("SELECT current_setting('app.current_tenant_id', true), (SELECT count(*) FROM {})", fx.table("Post"));
    let rs = d.query(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let setting = match &rs.rows[0][0] {
        DbValue::Null => None,
        DbValue::Text(s) if s.is_empty() => None,
        DbValue::Text(s) => Some(s.clone()),
        v => panic!("{v:?}"),
    };
    (setting, int(&rs.rows[0][1]))
}

async fn assert_clean(fx: &Fixture, d: &PgDriver, after: &str) {
    assert_eq!(leftover(fx, d).await, (None, 0), "a tenant was left on the connection after {after}");
}

/// Each tenant's posts (tenant 3 has none).
fn expected_posts(t: i64) -> Json {
    match t {
        1 => json!([{"id": 1, "tenantId": 1}, {"id": 2, "tenantId": 1}]),
        2 => json!([{"id": 3, "tenantId": 2}, {"id": 4, "tenantId": 2}]),
        _ => json!([]),
    }
}

/// Alternates tenants on a pool of one connection with failures of every kind in between,
/// checking that each request sees only its tenant and the connection is clean after each.
async fn alternate_tenants(fx: &Fixture, d: &PgDriver) {
    let engine = fx.engine(true);
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let sleep = |ms: u64| tokio::time::sleep(Duration::from_millis(ms));
    let posts = json!({"model": "Post", "action": "findMany", "args": {"select": {"id": true, "tenantId": true}, "orderBy": {"id": "asc"}}});
    let broken = json!({"model": "Post", "action": "create", "args": {"data": {"title": "x", "authorId": 999}}});
    let tags = json!({"model": "Tag", "action": "count"});

    // The check can fail: a session-level setting (what the engine never does) is caught.
    d.query("SELECT set_config('app.current_tenant_id', '2', false)", &[]).await.unwrap();
    assert_eq!(leftover(fx, d).await, (Some("2".into()), 2));
    d.query("SELECT set_config('app.current_tenant_id', '', false)", &[]).await.unwrap();
    assert_clean(fx, d, "the reset").await;

    for round in 0..3 {
        for t in [1, 2, 3] {
            let ctx = tenant(t);
            assert_eq!(engine.request(d, &posts, &ctx).await.unwrap(), expected_posts(t), "round {round} tenant {t}");
            assert_clean(fx, d, "a read").await;

            // A database error inside the request's transaction (foreign key): rolled back.
            let e = engine.request(d, &broken, &ctx).await.unwrap_err();
            assert_eq!(e.code(), "P2003", "{e:?}");
            assert_clean(fx, d, "a failed write").await;

            // A batch failing half-way: nothing of it stays.
            let before = engine.request(d, &tags, &ctx).await.unwrap();
            let batch = [json!({"model": "Tag", "action": "create", "args": {"data": {"name": "tmp"}}}), broken.clone()];
            assert_eq!(engine.batch(d, &batch, &ctx, None).await.unwrap_err().code(), "P2003");
            assert_eq!(engine.request(d, &tags, &ctx).await.unwrap(), before);
            assert_clean(fx, d, "a failed batch").await;

            // An interactive transaction that times out and is rolled back by the timer.
            let id = txs.begin(d, engine.schema(), TxOptions { timeout_ms: 100, ..Default::default() }, sleep).await.unwrap();
            assert_eq!(txs.request(&id, &engine, Dialect::Postgres, &posts, &ctx).await.unwrap(), expected_posts(t));
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert!(txs.expire(&id).await);
            assert_eq!(txs.request(&id, &engine, Dialect::Postgres, &posts, &ctx).await.unwrap_err().code(), "P2028");
            assert_clean(fx, d, "an interactive transaction timeout").await;

            // An interactive transaction rolled back after an error.
            let id = txs.begin(d, engine.schema(), TxOptions::default(), sleep).await.unwrap();
            assert_eq!(txs.request(&id, &engine, Dialect::Postgres, &broken, &ctx).await.unwrap_err().code(), "P2003");
            txs.rollback(&id, engine.schema()).await.unwrap();
            assert_clean(fx, d, "a rolled back interactive transaction").await;

            if round == 0 {
                // Another tenant's request times out waiting while this tenant holds the only
                // connection, and then gets it clean.
                let id = txs.begin(d, engine.schema(), TxOptions::default(), sleep).await.unwrap();
                txs.request(&id, &engine, Dialect::Postgres, &posts, &ctx).await.unwrap();
                let other = tenant(t % 3 + 1);
                assert_eq!(engine.request(d, &posts, &other).await.unwrap_err().code(), "P2024");
                txs.commit(&id, engine.schema()).await.unwrap();
                assert_eq!(engine.request(d, &posts, &other).await.unwrap(), expected_posts(t % 3 + 1));
                assert_clean(fx, d, "a pool timeout").await;
            }
        }
    }

    // Concurrent requests of different tenants queue for the one connection.
    let requests = (0..9).map(|i| {
        let (engine, posts) = (&engine, &posts);
        async move {
            let t = i % 3 + 1;
            (t, engine.request(d, posts, &tenant(t)).await.unwrap())
        }
    });
    for (t, got) in futures_util::future::join_all(requests).await {
        assert_eq!(got, expected_posts(t));
    }
    assert_clean(fx, d, "concurrent requests").await;
}

#[tokio::test]
async fn a_pool_of_one_connection_never_carries_a_tenant() {
    with_fixture("pool", async |fx| {
        let d = fx.app_driver("connection_limit=1&pool_timeout=0.3").await;
        alternate_tenants(fx, &d).await;
        d.close();
    })
    .await;
}

#[tokio::test]
async fn pgbouncer_in_transaction_mode_never_carries_a_tenant() {
    with_fixture("bouncer", async |fx| {
        let options = ConnectionOptions::parse(&corpus::database_url()).expect("DATABASE_URL");
        let host = match options.pg.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            other => panic!("PgBouncer needs a TCP host in DATABASE_URL, got {other:?}"),
        };
        let upstream = pgbouncer::Upstream {
            host,
            port: options.pg.get_ports().first().copied().unwrap_or(5432),
            database: options.pg.get_dbname().unwrap_or("postgres").to_owned(),
        };
        // One server connection for every client: whatever a client leaves on it, the next sees.
        let bouncer = pgbouncer::PgBouncer::start(&upstream, &[&fx.app], 1).unwrap_or_else(|e| panic!("{e}"));
        // `schema=` tells the driver whose types (the Status enum) to learn when it connects.
        let url = with_params(&bouncer.url(&fx.app, &upstream.database), &format!("schema={}", fx.ns));
        let d = PgDriver::connect(&with_params(&url, "connection_limit=1&pool_timeout=0.3")).await.unwrap();
        alternate_tenants(fx, &d).await;

        // Two clients, each with its own pool, share PgBouncer's one server connection.
        let other = PgDriver::connect(&with_params(&url, "connection_limit=1")).await.unwrap();
        let pid = |d: PgDriver| async move { int(&d.query("SELECT pg_backend_pid()", &[]).await.unwrap().rows[0][0]) };
        assert_eq!(pid(d.clone()).await, pid(other.clone()).await, "both clients reach the same server connection");
        // So a session-level setting by one would reach the other (the check catches it) ...
        d.query("SELECT set_config('app.current_tenant_id', '1', false)", &[]).await.unwrap();
        assert_eq!(leftover(fx, &other).await, (Some("1".into()), 2));
        other.query("SELECT set_config('app.current_tenant_id', '', false)", &[]).await.unwrap();
        // ... while RLS mode's transaction-local setting never does.
        let engine = fx.engine(true);
        let posts = json!({"model": "Post", "action": "findMany", "args": {"select": {"id": true, "tenantId": true}, "orderBy": {"id": "asc"}}});
        for _ in 0..3 {
            assert_eq!(engine.request(&d, &posts, &tenant(1)).await.unwrap(), expected_posts(1));
            assert_clean(fx, &other, "tenant 1's request on the other client").await;
            assert_eq!(engine.request(&other, &posts, &tenant(2)).await.unwrap(), expected_posts(2));
            assert_clean(fx, &d, "tenant 2's request on the other client").await;
        }
        d.close();
        other.close();
        drop(bouncer);
    })
    .await;
}
