//! The bindings' entry point (`quarry_engine::host`) against the real PostgreSQL: options and
//! envelopes as JSON, one request or a batch, tenant or unscoped, interactive transactions by id,
//! and the errors for envelopes that do not make sense.

use quarry_conformance as corpus;
use quarry_engine::exec::Driver;
use quarry_engine::host::Host;
use quarry_postgres::PgDriver;
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn setup(name: &str) -> (Host<PgDriver>, String) {
    let ns = format!("host_{name}_{}", std::process::id());
    let driver = PgDriver::connect(&corpus::database_url()).await.expect("connect");
    let schema = corpus::read_file("fixtures/schemas/bench.prisma");
    let host = Host::new(&schema, &json!({ "namespace": ns }), driver, Default::default()).expect("host");
    corpus::prepare(host.driver(), host.engine(), &ns, Some(&corpus::read_file("corpus/seeds/blog.sql"))).await.expect("prepare");
    (host, ns)
}

fn sleep(ms: u64) -> impl std::future::Future<Output = ()> {
    tokio::time::sleep(Duration::from_millis(ms))
}

fn count_posts() -> Json {
    json!({"model": "Post", "action": "count"})
}

async fn code(host: &Host<PgDriver>, envelope: Json) -> String {
    host.request(&envelope).await.expect_err("expected an error").code().to_owned()
}

#[tokio::test]
async fn envelopes_choose_tenant_batch_and_unscoped() {
    let (host, ns) = setup("envelopes").await;
    assert_eq!(host.request(&json!({"request": count_posts(), "tenant": 1})).await.unwrap(), json!(5));
    assert_eq!(host.request(&json!({"request": count_posts(), "tenant": "2"})).await.unwrap(), json!(2));
    assert_eq!(host.request(&json!({"request": count_posts(), "unscoped": true})).await.unwrap(), json!(7));
    let batch = json!({"request": [count_posts(), {"model": "User", "action": "count"}], "tenant": 2, "isolationLevel": "Serializable"});
    assert_eq!(host.request(&batch).await.unwrap(), json!([2, 2]));
    // No tenant: scoped models fail closed.
    assert_eq!(code(&host, json!({"request": count_posts()})).await, "Q3001");
    assert_eq!(code(&host, json!({"request": count_posts(), "tenant": null})).await, "Q3001");
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn malformed_envelopes_are_refused_with_a_path() {
    let (host, ns) = setup("malformed").await;
    let e = host.request(&json!({"request": count_posts(), "tenant": 1, "unscoped": true})).await.unwrap_err();
    assert_eq!(e.code(), "Q2009");
    let e = host.request(&json!({"request": count_posts(), "tennant": 1})).await.unwrap_err();
    assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2004", Some("envelope.tennant")));
    assert!(e.message().contains("did you mean \"tenant\""), "{}", e.message());
    let e = host.request(&json!({"tenant": 1})).await.unwrap_err();
    assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2006", Some("envelope.request")));
    let e = host.request(&json!({"request": count_posts(), "tenant": 1, "isolationLevel": "Serializable"})).await.unwrap_err();
    assert_eq!(e.code(), "Q2009");
    let e = host.request(&json!({"request": [count_posts()], "tenant": 1, "isolationLevel": "Chaos"})).await.unwrap_err();
    assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2005", Some("envelope.isolationLevel")));
    let e = host.request(&json!({"request": count_posts(), "unscoped": "yes"})).await.unwrap_err();
    assert_eq!(e.code(), "Q2005");
    assert_eq!(host.request(&json!([])).await.unwrap_err().code(), "Q2001");
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn options_are_checked() {
    let driver = || async { PgDriver::connect(&corpus::database_url()).await.expect("connect") };
    let schema = corpus::read_file("fixtures/schemas/bench.prisma");
    let e = Host::new(&schema, &json!({"namespace": 3}), driver().await, Default::default()).err().expect("error");
    assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2005", Some("options.namespace")));
    let e = Host::new(&schema, &json!({"maxTake": 0}), driver().await, Default::default()).err().expect("error");
    assert_eq!(e.code(), "Q2005");
    let e = Host::new(&schema, &json!({"namespaces": "x"}), driver().await, Default::default()).err().expect("error");
    assert_eq!(e.code(), "Q2004");
    let host = Host::new(&schema, &json!({"maxTake": 2}), driver().await, Default::default()).expect("host");
    let e = host.compile(&json!({"request": {"model": "Post", "action": "findMany", "args": {"take": 3}}, "tenant": 1})).unwrap_err();
    assert_eq!(e.code(), "Q2008");
    let described = host.describe();
    assert_eq!(described["models"], json!(["Tenant", "User", "Post", "Comment"]));
    assert_eq!(described["tenancy"][1], json!({"model": "User", "tenancy": "scoped", "field": "tenantId", "writable": false}));
    assert_eq!((described["scoped"].clone(), described["forTenantError"].clone(), described["warnings"].clone()), (json!(true), Json::Null, json!([])));
}

#[tokio::test]
async fn interactive_transactions_by_id() {
    let (host, ns) = setup("interactive").await;
    let create = json!({"model": "Post", "action": "create", "args": {"data": {"title": "t", "author": {"connect": {"id": 1}}}}});
    let begun = host.begin(&json!({"isolationLevel": "RepeatableRead", "timeout": 10_000}), sleep).await.unwrap();
    let id = begun["id"].as_str().unwrap().to_owned();
    assert_eq!(begun["timeout"], json!(10_000));
    host.request(&json!({"request": create, "tenant": 1, "transaction": id})).await.unwrap();
    // A batch inside the transaction sees its own write; outside, nothing is visible yet.
    let inside = host.request(&json!({"request": [count_posts(), count_posts()], "tenant": 1, "transaction": id})).await.unwrap();
    assert_eq!(inside, json!([6, 6]));
    assert_eq!(host.request(&json!({"request": count_posts(), "tenant": 1})).await.unwrap(), json!(5));
    host.rollback(&id).await.unwrap();
    assert_eq!(host.request(&json!({"request": count_posts(), "tenant": 1})).await.unwrap(), json!(5));
    assert_eq!(code(&host, json!({"request": count_posts(), "tenant": 1, "transaction": id})).await, "P2028");

    let id = host.begin(&Json::Null, sleep).await.unwrap()["id"].as_str().unwrap().to_owned();
    host.request(&json!({"request": create, "tenant": 1, "transaction": id})).await.unwrap();
    host.commit(&id).await.unwrap();
    assert_eq!(host.request(&json!({"request": count_posts(), "tenant": 1})).await.unwrap(), json!(6));
    let e = host.begin(&json!({"timeout": -1}), sleep).await.unwrap_err();
    assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2005", Some("options.timeout")));
    // An isolation level belongs to the start of the transaction, not to its requests.
    let id = host.begin(&Json::Null, sleep).await.unwrap()["id"].as_str().unwrap().to_owned();
    let e = host.request(&json!({"request": [count_posts()], "tenant": 1, "transaction": id, "isolationLevel": "Serializable"})).await.unwrap_err();
    assert_eq!(e.code(), "Q2009");
    // Closing is final: the open transaction is rolled back and nothing starts any more.
    host.close().await;
    assert_eq!(code(&host, json!({"request": count_posts(), "tenant": 1, "transaction": id})).await, "Q4002");
    assert_eq!(code(&host, json!({"request": count_posts(), "tenant": 1})).await, "Q4002");
    assert_eq!(host.begin(&Json::Null, sleep).await.unwrap_err().code(), "Q4002");
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn compile_needs_no_database() {
    let (host, ns) = setup("compile").await;
    let out = host.compile(&json!({"request": [count_posts(), count_posts()], "tenant": 7})).unwrap();
    let statements = out.as_array().unwrap();
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0]["statements"][0]["params"], json!([7]));
    assert_eq!(host.dialect(), host.driver().dialect());
    let ddl = host.ddl(&Json::Null).expect("ddl");
    assert!(ddl.iter().any(|s| s.starts_with(&format!("CREATE TABLE \"{ns}\".\"Post\""))), "{ddl:?}");
    corpus::drop_namespace(host.driver(), &ns).await;
}

/// The plan cache under tenant scope: one request shape, kept after its first run, serves each
/// tenant only that tenant's rows (the tenant id is a parameter filled from each request's own
/// context), and never serves a request without a tenant or an unscoped one.
#[tokio::test]
async fn a_cached_plan_binds_each_requests_own_tenant() {
    let (host, ns) = setup("plancache").await;
    let by_email = json!({"model": "User", "action": "findMany", "args": {"where": {"email": "alice@acme.test"}, "select": {"id": true, "tenantId": true}}});
    let post = |id: i64| json!({"model": "Post", "action": "findUnique", "args": {"where": {"id": id}, "select": {"id": true, "tenantId": true}}});
    let run = |request: &Json, tenant: Json| {
        let envelope = json!({"request": request, "tenant": tenant});
        let host = &host;
        async move { host.request(&envelope).await }
    };
    assert_eq!(run(&by_email, json!(1)).await.unwrap(), json!([{"id": 1, "tenantId": 1}]));
    let before = host.engine().cache_stats();
    assert_eq!(run(&by_email, json!(2)).await.unwrap(), json!([{"id": 4, "tenantId": 2}]));
    assert_eq!(run(&by_email, json!("3")).await.unwrap(), json!([]));
    assert_eq!(run(&by_email, json!(1)).await.unwrap(), json!([{"id": 1, "tenantId": 1}]));
    assert_eq!(host.engine().cache_stats().hits, before.hits + 3, "the later runs come from the cache");

    assert_eq!(run(&post(1), json!(1)).await.unwrap(), json!({"id": 1, "tenantId": 1}));
    assert_eq!(run(&post(6), json!(1)).await.unwrap(), json!(null), "another tenant's row is not found");
    assert_eq!(run(&post(6), json!(2)).await.unwrap(), json!({"id": 6, "tenantId": 2}));
    assert_eq!(run(&post(1), json!(2)).await.unwrap(), json!(null));

    // Writes: the same updateMany under each tenant reaches only that tenant's rows.
    let touch = json!({"model": "Post", "action": "updateMany", "args": {"where": {"title": "Hello from Alice"}, "data": {"views": 5}}});
    assert_eq!(run(&touch, json!(1)).await.unwrap(), json!({"count": 1}));
    let views = json!({"model": "Post", "action": "findMany", "args": {"where": {"title": "Hello from Alice"}, "orderBy": {"id": "asc"}, "select": {"id": true, "views": true}}});
    let all = host.request(&json!({"request": views, "unscoped": true})).await.unwrap();
    assert_eq!(all, json!([{"id": 1, "views": 5}, {"id": 6, "views": 999}]));
    assert_eq!(run(&touch, json!(2)).await.unwrap(), json!({"count": 1}));

    // Without a tenant the shape is refused every time, cache or not; unscoped is its own plan.
    for _ in 0..2 {
        assert_eq!(code(&host, json!({"request": by_email})).await, "Q3001");
        assert_eq!(code(&host, json!({"request": post(1)})).await, "Q3001");
        assert_eq!(code(&host, json!({"request": touch})).await, "Q3001");
    }
    let unscoped = host.request(&json!({"request": by_email, "unscoped": true})).await.unwrap();
    assert_eq!(unscoped, json!([{"id": 1, "tenantId": 1}, {"id": 4, "tenantId": 2}]));
    corpus::drop_namespace(host.driver(), &ns).await;
}

/// A nested create on PostgreSQL is one statement (data-modifying CTEs). Its INSERTs are scoped
/// like standalone ones before they are joined: under tenant 1 every row it writes is tenant 1's,
/// a row naming tenant 2 or linking to tenant 2's rows is refused with nothing written, and the
/// cached plan of the shape writes each request's own tenant.
#[tokio::test]
async fn a_nested_create_is_one_statement_in_its_tenant() {
    let (host, ns) = setup("ctecreate").await;
    let create = |email: &str, user: Json, posts: Json| {
        let mut data = json!({"email": email, "name": "N", "posts": {"create": posts}});
        if let (Some(d), Some(extra)) = (data.as_object_mut(), user.as_object()) {
            d.extend(extra.clone());
        }
        json!({"model": "User", "action": "create", "args": {"data": data, "select": {"tenantId": true, "posts": {"orderBy": {"title": "asc"}, "select": {"title": true, "tenantId": true}}}}})
    };
    let plain = |email: &str| create(email, json!({}), json!([{"title": "one"}, {"title": "two"}]));
    let compiled = host.compile(&json!({"request": plain("a@cte.test"), "tenant": 1})).expect("compile");
    let statements = compiled["statements"].as_array().expect("statements");
    assert_eq!(statements.len(), 1, "{compiled}");
    assert!(statements[0]["sql"].as_str().is_some_and(|s| s.starts_with("WITH ")), "{compiled}");

    let run = |request: Json, tenant: Json| {
        let host = &host;
        async move { host.request(&json!({"request": request, "tenant": tenant})).await }
    };
    let mine = json!({"tenantId": 1, "posts": [{"title": "one", "tenantId": 1}, {"title": "two", "tenantId": 1}]});
    assert_eq!(run(plain("a@cte.test"), json!(1)).await.unwrap(), mine);
    let before = host.engine().cache_stats();
    let theirs = json!({"tenantId": 2, "posts": [{"title": "one", "tenantId": 2}, {"title": "two", "tenantId": 2}]});
    assert_eq!(run(plain("b@cte.test"), json!(2)).await.unwrap(), theirs);
    assert_eq!(host.engine().cache_stats().hits, before.hits + 1, "the second tenant's create comes from the cache");

    // Another tenant's id on the new row or on a nested row, or a nested row linked to another
    // tenant's user: refused, nothing written.
    let hostile = [
        (create("c@cte.test", json!({"tenantId": 2}), json!([{"title": "x"}, {"title": "y"}])), "Q3002"),
        (create("c@cte.test", json!({}), json!([{"title": "x"}, {"title": "y", "tenantId": 2}])), "Q3002"),
        (create("c@cte.test", json!({"comments": {"create": [{"body": "x", "postId": 6}]}}), json!([{"title": "x"}])), "P2003"),
    ];
    for (request, expected) in hostile {
        let got = host.request(&json!({"request": request, "tenant": 1})).await;
        let code = got.as_ref().map_err(|e| e.code().to_owned()).err();
        assert_eq!(code.as_deref(), Some(expected), "{request}: {got:?}");
        let users = json!({"model": "User", "action": "count", "args": {"where": {"email": "c@cte.test"}}});
        assert_eq!(host.request(&json!({"request": users, "unscoped": true})).await.unwrap(), json!(0), "{request}");
    }
    let posts = json!({"model": "Post", "action": "count", "args": {"where": {"title": {"in": ["x", "y"]}}}});
    assert_eq!(host.request(&json!({"request": posts, "unscoped": true})).await.unwrap(), json!(0));
    corpus::drop_namespace(host.driver(), &ns).await;
}
