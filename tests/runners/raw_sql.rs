//! Raw SQL (`queryRaw` / `executeRaw`) against the real PostgreSQL, through the bindings' entry
//! point: what runs as given, what is rewritten under a tenant, what is refused and with which
//! code. Every case under a tenant runs in an interactive transaction that is rolled back, and
//! checks both its own result and that no row of another tenant changed (inside the transaction
//! and after it).

use quarry_conformance as corpus;
use quarry_engine::host::Host;
use quarry_postgres::PgDriver;
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn setup(name: &str) -> (Host<PgDriver>, String) {
    let ns = format!("raw_{name}_{}", std::process::id());
    let driver = PgDriver::connect(&corpus::database_url()).await.expect("connect");
    let schema = corpus::read_file("fixtures/schemas/bench.prisma");
    let host = Host::new(&schema, &json!({ "namespace": ns }), driver, Default::default()).expect("host");
    corpus::prepare(host.driver(), host.engine(), &ns, Some(&corpus::read_file("corpus/seeds/blog.sql"))).await.expect("prepare");
    (host, ns)
}

fn sleep(ms: u64) -> impl std::future::Future<Output = ()> {
    tokio::time::sleep(Duration::from_millis(ms))
}

fn query(sql: &str, params: Json) -> Json {
    json!({"action": "queryRaw", "args": {"query": sql, "parameters": params}})
}

fn execute(sql: &str, params: Json) -> Json {
    json!({"action": "executeRaw", "args": {"query": sql, "parameters": params}})
}

/// Every row that is not tenant 1's, as JSON text.
async fn others(host: &Host<PgDriver>, ns: &str, transaction: Option<&str>) -> Json {
    let sql = format!(
        r#"SELECT
          (SELECT json_agg(t ORDER BY id)::text FROM "{ns}"."Tenant" t WHERE id <> 1) AS tenants,
          (SELECT json_agg(u ORDER BY id)::text FROM "{ns}"."User" u WHERE "tenantId" <> 1) AS users,
          (SELECT json_agg(p ORDER BY id)::text FROM "{ns}"."Post" p WHERE "tenantId" <> 1) AS posts,
          (SELECT json_agg(c ORDER BY id)::text FROM "{ns}"."Comment" c WHERE "tenantId" <> 1) AS comments"#
    );
    let mut env = json!({"request": query(&sql, json!([])), "unscoped": true});
    if let Some(id) = transaction {
        env["transaction"] = json!(id);
    }
    host.request(&env).await.expect("snapshot")
}

enum Expect {
    Rows(Json),
    Count(u64),
    Code(&'static str),
}

struct Case {
    name: &'static str,
    request: Json,
    expect: Expect,
}

fn q(name: &'static str, sql: &str, params: Json, rows: Json) -> Case {
    Case { name, request: query(sql, params), expect: Expect::Rows(rows) }
}

fn x(name: &'static str, sql: &str, params: Json, count: u64) -> Case {
    Case { name, request: execute(sql, params), expect: Expect::Count(count) }
}

fn refuse(name: &'static str, sql: &str, params: Json, code: &'static str) -> Case {
    Case { name, request: query(sql, params), expect: Expect::Code(code) }
}

fn ids(list: &[i64]) -> Json {
    Json::Array(list.iter().map(|i| json!({"id": i})).collect())
}

/// The cases, run as tenant 1 of the blog seed (tenant 1: users 1-3, posts 1-5, comments 1-6;
/// tenant 2: users 4-5, posts 6-7, comments 7-8). `{ns}` is the test's namespace.
fn cases() -> Vec<Case> {
    vec![
        // Reads.
        q("plain select", r#"SELECT id FROM "Post" ORDER BY id"#, json!([]), ids(&[1, 2, 3, 4, 5])),
        q("OR 1=1 cannot widen", r#"SELECT id FROM "Post" WHERE id = 6 OR 1=1 ORDER BY id"#, json!([]), ids(&[1, 2, 3, 4, 5])),
        q("another tenant's id reads as absent", r#"SELECT id FROM "Post" WHERE id = $1"#, json!([6]), json!([])),
        q("own id with a parameter", r#"SELECT id FROM "Post" WHERE id = $1"#, json!([1]), ids(&[1])),
        q("asking for another tenant by tenantId", r#"SELECT id FROM "Post" WHERE "tenantId" = $1"#, json!([2]), json!([])),
        q("line comment hiding a predicate", "SELECT id FROM \"Post\" -- WHERE \"tenantId\" = 2\n WHERE id > 5", json!([]), json!([])),
        q("block comments around the table", r#"SELECT id FROM /* "Comment" */ "Post" /* WHERE false */ WHERE id = 7"#, json!([]), json!([])),
        refuse("unterminated comment", r#"SELECT id FROM "Post" /* WHERE id = 1"#, json!([]), "Q3004"),
        q(
            "UNION ALL with another table",
            r#"SELECT count(*)::int AS n FROM (SELECT id FROM "Post" UNION ALL SELECT id FROM "Comment") x"#,
            json!([]),
            json!([{"n": 11}]),
        ),
        q(
            "UNION reaching for other rows",
            r#"SELECT email AS v FROM "User" WHERE id = 1 UNION SELECT email FROM "User" WHERE id = 5 ORDER BY 1"#,
            json!([]),
            json!([{"v": "alice@acme.test"}]),
        ),
        q("EXCEPT", r#"SELECT id FROM "Post" EXCEPT SELECT "postId" FROM "Comment" ORDER BY 1"#, json!([]), ids(&[2, 4])),
        q("INTERSECT", r#"SELECT "postId" AS id FROM "Comment" INTERSECT SELECT id FROM "Post" WHERE id >= 5 ORDER BY 1"#, json!([]), ids(&[5])),
        q("CTE reading a scoped table", r#"WITH p AS (SELECT * FROM "Post") SELECT id FROM p ORDER BY id"#, json!([]), ids(&[1, 2, 3, 4, 5])),
        q(
            "nested CTEs",
            r#"WITH a AS (SELECT id, "authorId" FROM "Post"), b AS (SELECT a.id FROM a JOIN "User" u ON u.id = a."authorId" WHERE u.email LIKE 'alice%') SELECT id FROM b ORDER BY id"#,
            json!([]),
            ids(&[1, 2, 5]),
        ),
        refuse("CTE named like a table", r#"WITH "Post" AS (SELECT * FROM "Comment") SELECT id FROM "Post""#, json!([]), "Q3004"),
        q("a CTE named post is not \"Post\"", r#"WITH post AS (SELECT 1 AS id) SELECT id FROM "Post" ORDER BY id"#, json!([]), ids(&[1, 2, 3, 4, 5])),
        q(
            "recursive CTE",
            r#"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT count(*)::int AS n FROM r"#,
            json!([]),
            json!([{"n": 3}]),
        ),
        // A WITH query's name means the WITH query only where PostgreSQL resolves it so: in the
        // query that defines it and in the WITH queries after it, never outside.
        refuse(
            "a WITH name does not reach outside its query",
            r#"SELECT j.* FROM (WITH pg_stat_activity AS (SELECT 1) SELECT 1) s, pg_stat_activity j"#,
            json!([]),
            "Q3004",
        ),
        refuse(
            "a WITH name inside a subquery does not name a system view outside it",
            r#"SELECT s.* FROM "Post" p, LATERAL (WITH pg_stats AS (SELECT 1 AS x) SELECT x FROM pg_stats) l, pg_stats s"#,
            json!([]),
            "Q3004",
        ),
        refuse(
            "a WITH query cannot use a later sibling's name",
            r#"WITH a AS (SELECT * FROM pg_stats), pg_stats AS (SELECT 1) SELECT * FROM a"#,
            json!([]),
            "Q3004",
        ),
        refuse("a WITH query cannot use its own name", r#"WITH pg_stats AS (SELECT * FROM pg_stats) SELECT * FROM pg_stats"#, json!([]), "Q3004"),
        refuse(
            "a WITH name in a sibling subquery of the FROM list",
            r#"SELECT * FROM (WITH "_PostToTag" AS (SELECT 1 AS "A") SELECT "A" FROM "_PostToTag") x JOIN "_PostToTag" j ON true"#,
            json!([]),
            "Q3004",
        ),
        q(
            "a WITH query sees the ones before it",
            r#"WITH a AS (SELECT id FROM "Post"), b AS (SELECT id FROM a WHERE id > 3) SELECT id FROM b ORDER BY id"#,
            json!([]),
            ids(&[4, 5]),
        ),
        q("a WITH name inside the query's subqueries", r#"WITH a AS (SELECT id FROM "Post") SELECT (SELECT count(*)::int FROM a) AS n"#, json!([]), json!([{"n": 5}])),
        q(
            "a recursive WITH list sees every name",
            r#"WITH RECURSIVE b AS (SELECT n FROM a), a(n) AS (SELECT 1) SELECT n FROM b"#,
            json!([]),
            json!([{"n": 1}]),
        ),
        refuse("data-modifying CTE", r#"WITH d AS (DELETE FROM "Post" RETURNING id) SELECT count(*) FROM d"#, json!([]), "Q3004"),
        q("subquery in the select list", r#"SELECT (SELECT count(*)::int FROM "Post") AS n"#, json!([]), json!([{"n": 5}])),
        q("subquery in WHERE", r#"SELECT id FROM "User" WHERE id IN (SELECT "authorId" FROM "Post") ORDER BY id"#, json!([]), ids(&[1, 2])),
        q(
            "correlated EXISTS for another tenant's row",
            r#"SELECT u.id FROM "User" u WHERE EXISTS (SELECT 1 FROM "Post" p WHERE p."authorId" = u.id AND p.id = 6)"#,
            json!([]),
            json!([]),
        ),
        q(
            "LATERAL",
            r#"SELECT u.id, x.n FROM "User" u, LATERAL (SELECT count(*)::int AS n FROM "Post" p WHERE p."authorId" = u.id) x ORDER BY u.id"#,
            json!([]),
            json!([{"id": 1, "n": 3}, {"id": 2, "n": 2}, {"id": 3, "n": 0}]),
        ),
        q(
            "JOIN",
            r#"SELECT p.id, u.email FROM "Post" p JOIN "User" u ON u.id = p."authorId" WHERE p.id IN (1, 6) ORDER BY p.id"#,
            json!([]),
            json!([{"id": 1, "email": "alice@acme.test"}]),
        ),
        q(
            "FULL JOIN",
            r#"SELECT count(*)::int AS n FROM "Post" p FULL JOIN "Comment" c ON c."postId" = p.id"#,
            json!([]),
            json!([{"n": 8}]),
        ),
        q(
            "RIGHT JOIN",
            r#"SELECT count(*)::int AS n FROM "Comment" c RIGHT JOIN "Post" p ON c."postId" = p.id"#,
            json!([]),
            json!([{"n": 8}]),
        ),
        q(
            "parenthesized join",
            r#"SELECT count(*)::int AS n FROM ("Post" p JOIN "User" u ON u.id = p."authorId")"#,
            json!([]),
            json!([{"n": 5}]),
        ),
        q("derived table", r#"SELECT x.id FROM (SELECT id FROM "Post" WHERE id > 4) AS x"#, json!([]), ids(&[5])),
        q("schema-qualified name", r#"SELECT id FROM "{ns}"."Post" ORDER BY id"#, json!([]), ids(&[1, 2, 3, 4, 5])),
        q("alias shadowing the table name", r#"SELECT "Post".id FROM "Comment" AS "Post" WHERE "Post".id = 7"#, json!([]), json!([])),
        q("column names in any case", r#"SELECT ID FROM "Post" WHERE Id = 1"#, json!([]), ids(&[1])),
        refuse("unquoted table name folds to lower case", "SELECT id FROM Post", json!([]), "Q3004"),
        refuse("quoted name in the wrong case", r#"SELECT id FROM "post""#, json!([]), "Q3004"),
        refuse("another schema", r#"SELECT id FROM public."Post""#, json!([]), "Q3004"),
        refuse("system catalog", "SELECT relname FROM pg_catalog.pg_class", json!([]), "Q3004"),
        refuse("statistics view", "SELECT * FROM pg_stats", json!([]), "Q3004"),
        refuse("information schema", "SELECT * FROM information_schema.tables", json!([]), "Q3004"),
        refuse("unknown table", "SELECT * FROM not_a_table", json!([]), "Q3004"),
        refuse("TABLE statement", r#"TABLE "Post""#, json!([]), "Q3004"),
        q("the tenant model shows only its own row", r#"SELECT id FROM "Tenant" ORDER BY id"#, json!([]), ids(&[1])),
        q("table function", "SELECT count(*)::int AS n FROM generate_series(1, 3)", json!([]), json!([{"n": 3}])),
        q(
            "window function",
            r#"SELECT id, row_number() OVER (ORDER BY id)::int AS r FROM "Post" ORDER BY id DESC LIMIT 1"#,
            json!([]),
            json!([{"id": 5, "r": 5}]),
        ),
        q("count is a BigInt", r#"SELECT count(*) AS n FROM "Post""#, json!([]), json!([{"n": {"$type": "BigInt", "value": "5"}}])),
        q(
            "dollar-quoted string holding SQL",
            r#"SELECT $$'; DELETE FROM "Post"; --$$ AS s"#,
            json!([]),
            json!([{"s": "'; DELETE FROM \"Post\"; --"}]),
        ),
        q("tagged dollar quote", r#"SELECT id FROM "Post" WHERE title = $t$Globex secrets$t$"#, json!([]), json!([])),
        q("quote tricks in a string", r#"SELECT 'it''s -- not a comment' AS s"#, json!([]), json!([{"s": "it's -- not a comment"}])),
        // Rule 7: the statement's own conditions never see another tenant's row.
        q(
            "a cast on another tenant's value does not raise",
            r#"SELECT id FROM "Post" WHERE CASE WHEN title = 'Globex secrets' THEN CAST(title AS int) ELSE 0 END = 0 ORDER BY id"#,
            json!([]),
            ids(&[1, 2, 3, 4, 5]),
        ),
        q(
            "a division by zero on another tenant's row does not raise",
            r#"SELECT count(*)::int AS n FROM "Post" p JOIN "User" u ON u.id = p."authorId" WHERE 1 / (CASE WHEN u."tenantId" = 2 THEN 0 ELSE 1 END) = 1"#,
            json!([]),
            json!([{"n": 5}]),
        ),
        q(
            "plain conditions next to one that would raise",
            r#"SELECT id FROM "Post" WHERE views >= 0 AND CASE WHEN title = 'Globex secrets' THEN CAST(title AS int) ELSE 0 END = 0 AND id <> 4 ORDER BY id"#,
            json!([]),
            ids(&[1, 2, 3, 5]),
        ),
        q(
            "correlated condition on a fenced table",
            r#"SELECT u.id FROM "User" u WHERE EXISTS (SELECT 1 FROM "Post" WHERE "authorId" = u.id AND views > 40) ORDER BY u.id"#,
            json!([]),
            ids(&[1, 2]),
        ),
        q("alias with column names", r#"SELECT x.a FROM "Post" AS x(a) WHERE x.a IN (1, 6)"#, json!([]), json!([{"a": 1}])),
        // Session state, DDL and other statements.
        refuse("set_config in a SELECT", "SELECT set_config('app.current_tenant_id', '2', false)", json!([]), "Q3004"),
        refuse("set_config in WHERE", r#"SELECT id FROM "Post" WHERE set_config('app.current_tenant_id', '2', true) IS NOT NULL"#, json!([]), "Q3004"),
        refuse("set_config qualified and upper case", "SELECT PG_CATALOG.SET_CONFIG('a.b', 'c', false)", json!([]), "Q3004"),
        refuse("query_to_xml runs SQL text", r#"SELECT query_to_xml('SELECT * FROM "Post"', true, false, '')"#, json!([]), "Q3004"),
        refuse("current_setting", "SELECT current_setting('app.current_tenant_id')", json!([]), "Q3004"),
        refuse("user-defined function", "SELECT my_schema.leak()", json!([]), "Q3004"),
        refuse("two statements", "SELECT 1; SELECT 2", json!([]), "Q3004"),
        refuse("a second statement after a read", r#"SELECT id FROM "Post"; DELETE FROM "Post""#, json!([]), "Q3004"),
        refuse("SET", "SET search_path TO public", json!([]), "Q3004"),
        refuse("SET LOCAL of the tenant setting", "SET LOCAL app.current_tenant_id = '2'", json!([]), "Q3004"),
        refuse("SET ROLE", "SET ROLE postgres", json!([]), "Q3004"),
        refuse("RESET", "RESET ALL", json!([]), "Q3004"),
        refuse("DISCARD", "DISCARD ALL", json!([]), "Q3004"),
        refuse("DO", "DO $$ BEGIN PERFORM 1; END $$", json!([]), "Q3004"),
        refuse("COPY", r#"COPY "Post" TO STDOUT"#, json!([]), "Q3004"),
        refuse("TRUNCATE", r#"TRUNCATE "Post""#, json!([]), "Q3004"),
        refuse("LOCK", r#"LOCK TABLE "Post""#, json!([]), "Q3004"),
        refuse("CREATE TABLE", "CREATE TABLE evil (id int)", json!([]), "Q3004"),
        refuse("DROP TABLE", r#"DROP TABLE "Post""#, json!([]), "Q3004"),
        refuse("ALTER TABLE", r#"ALTER TABLE "Post" DISABLE ROW LEVEL SECURITY"#, json!([]), "Q3004"),
        refuse("COMMIT", "COMMIT", json!([]), "Q3004"),
        refuse("EXPLAIN", r#"EXPLAIN ANALYZE SELECT * FROM "Post""#, json!([]), "Q3004"),
        refuse("SELECT INTO", r#"SELECT * INTO stolen FROM "Post""#, json!([]), "Q3004"),
        refuse("unparseable", "SELEC id FROM \"Post\"", json!([]), "Q3004"),
        refuse("empty", "  -- nothing\n", json!([]), "Q3004"),
        refuse("nesting past the parser's depth limit", &format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200)), json!([]), "Q3004"),
        refuse("a placeholder beyond the parameters", "SELECT $2::int AS n", json!([1]), "Q2005"),
        refuse("a ? placeholder", r#"SELECT id FROM "Post" WHERE id = ?"#, json!([]), "Q3004"),
        // INSERT.
        q(
            "INSERT gets the tenant",
            r#"INSERT INTO "Post" ("authorId", title) VALUES (1, 'new') RETURNING "tenantId""#,
            json!([]),
            json!([{"tenantId": 1}]),
        ),
        x("INSERT naming the current tenant", r#"INSERT INTO "Post" ("tenantId", "authorId", title) VALUES ($1, $2, $3)"#, json!([1, 2, "mine"]), 1),
        Case {
            name: "INSERT naming another tenant",
            request: execute(r#"INSERT INTO "Post" ("tenantId", "authorId", title) VALUES (2, 4, 'theirs')"#, json!([])),
            expect: Expect::Code("Q3002"),
        },
        Case {
            name: "INSERT naming another tenant through a parameter",
            request: execute(r#"INSERT INTO "Post" ("tenantId", "authorId", title) VALUES ($1, 1, 'theirs')"#, json!([2])),
            expect: Expect::Code("Q3002"),
        },
        Case {
            name: "INSERT computing the tenant",
            request: execute(r#"INSERT INTO "Post" ("tenantId", "authorId", title) VALUES (1 + 1, 1, 'x')"#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        Case {
            name: "INSERT linking another tenant's user",
            request: execute(r#"INSERT INTO "Post" ("authorId", title) VALUES ($1, 'x')"#, json!([4])),
            expect: Expect::Code("P2003"),
        },
        Case {
            name: "INSERT linking another tenant's user by a literal",
            request: execute(r#"INSERT INTO "Comment" ("postId", "authorId", body) VALUES (1, 1, 'ok'), (6, 1, 'x')"#, json!([])),
            expect: Expect::Code("P2003"),
        },
        Case {
            name: "INSERT computing a foreign key",
            request: execute(r#"INSERT INTO "Post" ("authorId", title) VALUES ((SELECT 4), 'x')"#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        x(
            "INSERT ... SELECT reads only the tenant's rows",
            r#"INSERT INTO "User" (email) SELECT title || '@copy' FROM "Post""#,
            json!([]),
            5,
        ),
        Case {
            name: "INSERT ... SELECT copying tenant ids",
            request: execute(r#"INSERT INTO "User" ("tenantId", email) SELECT "tenantId", email FROM "User""#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        Case {
            name: "INSERT ... SELECT of foreign keys",
            request: execute(r#"INSERT INTO "Comment" ("postId", "authorId", body) SELECT id, 1, 'c' FROM "Post""#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        Case {
            name: "INSERT without a column list",
            request: execute(r#"INSERT INTO "User" VALUES (500, 2, 'x@y', 'x', now())"#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        Case { name: "INSERT a tenant", request: execute(r#"INSERT INTO "Tenant" (name) VALUES ('new')"#, json!([])), expect: Expect::Code("Q3003") },
        x(
            "ON CONFLICT DO UPDATE cannot reach another tenant's row",
            r#"INSERT INTO "Post" (id, "authorId", title) VALUES (6, 1, 'stolen') ON CONFLICT (id) DO UPDATE SET title = excluded.title"#,
            json!([]),
            0,
        ),
        x(
            "ON CONFLICT DO UPDATE of an own row",
            r#"INSERT INTO "Post" (id, "authorId", title) VALUES (1, 1, 'renamed') ON CONFLICT (id) DO UPDATE SET title = excluded.title WHERE "Post".views > 0"#,
            json!([]),
            1,
        ),
        x(
            "ON CONFLICT DO UPDATE through an unquoted alias",
            r#"INSERT INTO "Post" AS P (id, "authorId", title) VALUES (7, 1, 'stolen') ON CONFLICT (id) DO UPDATE SET title = excluded.title WHERE P.views >= 0"#,
            json!([]),
            0,
        ),
        // UPDATE.
        x("UPDATE without WHERE", r#"UPDATE "Post" SET views = 0"#, json!([]), 5),
        x("UPDATE with OR 1=1", r#"UPDATE "Post" SET views = 1 WHERE id = 6 OR 1=1"#, json!([]), 5),
        x("UPDATE of another tenant's row", r#"UPDATE "Post" SET title = 'x' WHERE id = 7"#, json!([]), 0),
        Case {
            name: "UPDATE moving rows to another tenant",
            request: execute(r#"UPDATE "Post" SET "tenantId" = 2"#, json!([])),
            expect: Expect::Code("Q3002"),
        },
        Case {
            name: "UPDATE moving rows through a parameter",
            request: execute(r#"UPDATE "Post" SET title = 'x', "tenantId" = $1 WHERE id = 1"#, json!([2])),
            expect: Expect::Code("Q3002"),
        },
        Case {
            name: "excluded is only ON CONFLICT's row: elsewhere it is any name",
            request: execute(
                r#"UPDATE "Post" SET "tenantId" = excluded."tenantId" FROM (SELECT 2 AS "tenantId") AS excluded WHERE id = $1"#,
                json!([1]),
            ),
            expect: Expect::Code("Q3004"),
        },
        Case {
            name: "excluded as a FROM alias cannot clear the tenant either",
            request: execute(r#"UPDATE "Post" SET "tenantId" = excluded.t FROM (SELECT NULL::int AS t) AS excluded WHERE id = 1"#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        x(
            "ON CONFLICT DO UPDATE may keep the inserted row's tenant",
            r#"INSERT INTO "Post" (id, "authorId", title) VALUES (1, 1, 'again') ON CONFLICT (id) DO UPDATE SET title = excluded.title, "tenantId" = excluded."tenantId""#,
            json!([]),
            1,
        ),
        Case {
            name: "UPDATE of the tenant column in a tuple",
            request: execute(r#"UPDATE "Post" SET ("tenantId", title) = (2, 'x')"#, json!([])),
            expect: Expect::Code("Q3004"),
        },
        Case {
            name: "UPDATE linking another tenant's user",
            request: execute(r#"UPDATE "Post" SET "authorId" = 4 WHERE id = 1"#, json!([])),
            expect: Expect::Code("P2003"),
        },
        x("UPDATE linking an own user", r#"UPDATE "Post" SET "authorId" = $1 WHERE id = 1"#, json!([2]), 1),
        x(
            "UPDATE ... FROM joins only the tenant's rows",
            r#"UPDATE "Post" p SET views = 2 FROM "User" u WHERE u.id = p."authorId" AND u.email = 'alice@acme.test'"#,
            json!([]),
            3,
        ),
        x(
            "UPDATE whose condition would raise on another tenant's row",
            r#"UPDATE "Post" SET views = views + 1 WHERE CASE WHEN title = 'Globex secrets' THEN CAST(title AS int) ELSE 0 END = 0"#,
            json!([]),
            5,
        ),
        q(
            "UPDATE ... RETURNING",
            r#"UPDATE "Post" SET views = 3 WHERE id IN (1, 6) RETURNING id, views"#,
            json!([]),
            json!([{"id": 1, "views": 3}]),
        ),
        x("UPDATE of the own tenant row", r#"UPDATE "Tenant" SET name = 'renamed'"#, json!([]), 1),
        // DELETE.
        x("DELETE without WHERE deletes only the tenant's rows", r#"DELETE FROM "Comment""#, json!([]), 6),
        x("DELETE of another tenant's row", r#"DELETE FROM "Comment" WHERE id = 8"#, json!([]), 0),
        x(
            "DELETE ... USING joins only the tenant's rows",
            r#"DELETE FROM "Comment" c USING "Post" p WHERE c."postId" = p.id AND p.title = 'Hello from Alice'"#,
            json!([]),
            2,
        ),
        q("DELETE ... RETURNING", r#"DELETE FROM "Comment" WHERE id IN (1, 7) RETURNING id"#, json!([]), ids(&[1])),
        x(
            "DELETE whose condition would raise on another tenant's row",
            r#"DELETE FROM "Comment" WHERE CASE WHEN body = 'Secret comment' THEN CAST(body AS int) ELSE 0 END = 0"#,
            json!([]),
            6,
        ),
        x(
            "DELETE with a subquery on another table",
            r#"DELETE FROM "Comment" WHERE "postId" IN (SELECT id FROM "Post" WHERE title LIKE 'Hello%')"#,
            json!([]),
            5,
        ),
    ]
}

async fn run_case(host: &Host<PgDriver>, ns: &str, baseline: &Json, case: &Case) -> Result<(), String> {
    let mut request = case.request.clone();
    if let Some(text) = request["args"]["query"].as_str() {
        request["args"]["query"] = json!(text.replace("{ns}", ns));
    }
    let tx = host.begin(&json!({"timeout": 60000}), sleep).await.map_err(|e| format!("begin: {e}"))?;
    let id = tx["id"].as_str().unwrap_or_default().to_owned();
    let outcome = host.request(&json!({"request": request, "tenant": 1, "transaction": id})).await;
    let result = match (&case.expect, &outcome) {
        (Expect::Rows(want), Ok(got)) if got == want => Ok(()),
        (Expect::Count(want), Ok(got)) if got == &json!(want) => Ok(()),
        (Expect::Code(want), Err(e)) if e.code() == *want => {
            // An error never quotes another tenant's data.
            let text = e.to_json().to_string();
            if ["Globex", "globex", "dave@", "Secret"].iter().any(|s| text.contains(s)) {
                Err(format!("the error shows another tenant's data: {text}"))
            } else {
                Ok(())
            }
        }
        (_, Ok(got)) => Err(format!("unexpected result {got}")),
        (_, Err(e)) => Err(format!("unexpected error {e:?}")),
    };
    if outcome.is_ok() {
        let inside = others(host, ns, Some(&id)).await;
        if &inside != baseline {
            let _ = host.rollback(&id).await;
            return Err(format!("another tenant's rows changed inside the transaction: {inside}"));
        }
    }
    let _ = host.rollback(&id).await;
    result?;
    let after = others(host, ns, None).await;
    if &after != baseline {
        return Err("another tenant's rows changed".into());
    }
    Ok(())
}

#[tokio::test]
async fn raw_sql_under_a_tenant() {
    let (host, ns) = setup("tenant").await;
    let baseline = others(&host, &ns, None).await;
    assert!(baseline[0]["posts"].as_str().is_some_and(|s| s.contains("Globex secrets")), "{baseline}");
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(&host, &ns, &baseline, case).await {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    corpus::drop_namespace(host.driver(), &ns).await;
    assert!(failures.is_empty(), "{} of {} raw SQL cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The rule-7 cases above are only meaningful if the same SQL does raise without the fence.
#[tokio::test]
async fn the_rule_7_cases_raise_without_tenant_scope() {
    let (host, ns) = setup("rule7").await;
    let sql = format!(r#"SELECT id FROM "{ns}"."Post" WHERE CASE WHEN title = 'Globex secrets' THEN CAST(title AS int) ELSE 0 END = 0"#);
    let e = host.request(&json!({"request": query(&sql, json!([])), "unscoped": true})).await.unwrap_err();
    assert_eq!(e.code(), "P2023", "{e:?}");
    let sql = format!(r#"DELETE FROM "{ns}"."Comment" WHERE CASE WHEN body = 'Secret comment' THEN CAST(body AS int) ELSE 0 END = 0"#);
    assert!(host.request(&json!({"request": execute(&sql, json!([])), "unscoped": true})).await.is_err());
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn raw_sql_without_a_tenant() {
    let (host, ns) = setup("missing").await;
    let run = async |request: Json| host.request(&json!({"request": request})).await;
    // No tenant: statements that touch no scoped table run.
    assert_eq!(run(query("SELECT 1 AS one, $1::text AS t", json!(["x"]))).await.unwrap(), json!([{"one": 1, "t": "x"}]));
    // ... and those that do fail closed.
    assert_eq!(run(query(r#"SELECT id FROM "Post""#, json!([]))).await.unwrap_err().code(), "Q3001");
    assert_eq!(run(execute(r#"DELETE FROM "Comment""#, json!([]))).await.unwrap_err().code(), "Q3001");
    assert_eq!(run(query(r#"SELECT (SELECT count(*) FROM "User") AS n"#, json!([]))).await.unwrap_err().code(), "Q3001");
    assert_eq!(run(query("SELECT 1; SELECT 2", json!([]))).await.unwrap_err().code(), "Q3004");
    assert_eq!(run(query(r#"SELECT query_to_xml('SELECT * FROM "Post"', true, false, '')"#, json!([]))).await.unwrap_err().code(), "Q3004");
    // Explicitly unscoped: as given, every tenant's rows.
    let unscoped = async |request: Json| host.request(&json!({"request": request, "unscoped": true})).await;
    let sql = format!(r#"SELECT count(*)::int AS n FROM "{ns}"."Post""#);
    assert_eq!(unscoped(query(&sql, json!([]))).await.unwrap(), json!([{"n": 7}]));
    let sql = format!(r#"UPDATE "{ns}"."Post" SET views = views WHERE id = ANY($1)"#);
    assert_eq!(unscoped(execute(&sql, json!([[1, 6, 7]]))).await.unwrap(), json!(3));
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn raw_sql_values_round_trip() {
    let (host, ns) = setup("values").await;
    let sql = "SELECT $1::int AS i, $2::bigint AS b, $3::numeric AS d, $4::timestamptz AS t, $5::bytea AS y, $6::jsonb AS j, $7::text AS s, $8::boolean AS f, $9::int[] AS a, $10::float8 AS x";
    let params = json!([
        7,
        {"$type": "BigInt", "value": "9007199254740993"},
        {"$type": "Decimal", "value": "12.50"},
        {"$type": "DateTime", "value": "2025-01-02T03:04:05.000Z"},
        {"$type": "Bytes", "value": "AQID"},
        {"$type": "Json", "value": {"a": [1, null]}},
        "text",
        true,
        [1, 2],
        1.5
    ]);
    let rows = host.request(&json!({"request": query(sql, params), "tenant": 1})).await.unwrap();
    assert_eq!(
        rows,
        json!([{
            "i": 7,
            "b": {"$type": "BigInt", "value": "9007199254740993"},
            "d": {"$type": "Decimal", "value": "12.50"},
            "t": {"$type": "DateTime", "value": "2025-01-02T03:04:05.000Z"},
            "y": {"$type": "Bytes", "value": "AQID"},
            "j": {"$type": "Json", "value": {"a": [1, null]}},
            "s": "text",
            "f": true,
            "a": [1, 2],
            "x": 1.5
        }])
    );
    let e = host.request(&json!({"request": query("SELECT $1", json!([{"$type": "BigInt", "value": "x"}])), "tenant": 1})).await.unwrap_err();
    assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2005", Some("args.parameters[0]")));
    let e = host.request(&json!({"request": {"action": "queryRaw", "args": {"sql": "SELECT 1"}}, "tenant": 1})).await.unwrap_err();
    assert_eq!(e.code(), "Q2004");
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn raw_sql_in_batches_and_interactive_transactions() {
    let (host, ns) = setup("tx").await;
    let batch = json!({
        "request": [execute(r#"UPDATE "Post" SET views = 0"#, json!([])), query(r#"SELECT count(*)::int AS n FROM "Post" WHERE views = 0"#, json!([])), {"model": "Post", "action": "count", "args": {"where": {"views": 0}}}],
        "tenant": 1
    });
    assert_eq!(host.request(&batch).await.unwrap(), json!([5, [{"n": 5}], 5]));
    // A refused statement fails the whole batch before anything runs.
    let bad = json!({"request": [execute(r#"DELETE FROM "Comment""#, json!([])), query("SET search_path TO public", json!([]))], "tenant": 1});
    assert_eq!(host.request(&bad).await.unwrap_err().code(), "Q3004");
    assert_eq!(host.request(&json!({"request": {"model": "Comment", "action": "count"}, "tenant": 1})).await.unwrap(), json!(6));
    // Interactive: raw and model requests see each other's writes; rollback undoes them.
    let tx = host.begin(&json!(null), sleep).await.unwrap();
    let id = tx["id"].as_str().unwrap().to_owned();
    let n = host.request(&json!({"request": execute(r#"DELETE FROM "Comment""#, json!([])), "tenant": 1, "transaction": id})).await.unwrap();
    assert_eq!(n, json!(6));
    let count = host.request(&json!({"request": {"model": "Comment", "action": "count"}, "tenant": 1, "transaction": id})).await.unwrap();
    assert_eq!(count, json!(0));
    host.rollback(&id).await.unwrap();
    assert_eq!(host.request(&json!({"request": {"model": "Comment", "action": "count"}, "tenant": 1})).await.unwrap(), json!(6));
    assert_eq!(host.request(&json!({"request": {"model": "Comment", "action": "count"}, "tenant": 2})).await.unwrap(), json!(2));
    corpus::drop_namespace(host.driver(), &ns).await;
}

#[tokio::test]
async fn compiled_raw_sql_binds_the_tenant_after_the_parameters() {
    let (host, ns) = setup("compile").await;
    let out = host.compile(&json!({"request": query(r#"SELECT id FROM "Post" WHERE id = $1"#, json!([3])), "tenant": 1})).unwrap();
    let stmt = &out["statements"][0];
    let sql = stmt["sql"].as_str().unwrap();
    assert!(sql.contains(&format!(r#"FROM "{ns}"."Post""#)), "{sql}");
    assert!(sql.contains(r#""tenantId" = $2"#) && sql.contains("OFFSET 0"), "{sql}");
    assert_eq!(stmt["params"], json!([3, 1]));
    // ... with the plain condition copied into the fence, where an index can serve it.
    assert!(sql.contains(r#"WHERE "Post"."tenantId" = $2 AND id = $1 OFFSET 0"#), "{sql}");
    // Plain comparisons stay next to the tenant predicate; anything that could raise runs behind it.
    let out = host.compile(&json!({"request": execute(r#"UPDATE "Post" SET views = 1 WHERE id = $1 AND CAST(title AS int) = 1"#, json!([3])), "tenant": 1})).unwrap();
    let sql = out["statements"][0]["sql"].as_str().unwrap();
    assert!(sql.ends_with(r#"WHERE "Post"."tenantId" = $2 AND id = $1 AND CASE WHEN "Post"."tenantId" = $2 THEN (CAST(title AS INT) = 1) ELSE false END"#), "{sql}");
    // The tenant id is never written into the text.
    let out = host.compile(&json!({"request": execute(r#"INSERT INTO "User" (email) VALUES ('a@b')"#, json!([])), "tenant": 424242})).unwrap();
    let sql = out["statements"][0]["sql"].as_str().unwrap();
    assert!(!sql.contains("424242") && sql.contains("$1"), "{sql}");
    corpus::drop_namespace(host.driver(), &ns).await;
}


/// Shared rows (optional tenant field, NULL) are readable under every tenant and writable by none;
/// unscoped models work; rows of unscoped models that tenant rows refer to are deleted only
/// unscoped; implicit many-to-many tables are not the schema's tables.
#[tokio::test]
async fn shared_and_unscoped_models() {
    let ns = format!("raw_shared_{}", std::process::id());
    let driver = PgDriver::connect(&corpus::database_url()).await.expect("connect");
    let schema = corpus::read_file("corpus/schemas/tenants.prisma");
    let host = Host::new(&schema, &json!({ "namespace": ns }), driver, Default::default()).expect("host");
    corpus::prepare(host.driver(), host.engine(), &ns, Some(&corpus::read_file("corpus/seeds/tenants.sql"))).await.expect("prepare");
    let as_a = async |request: Json| host.request(&json!({"request": request, "tenant": "tnt_a"})).await;
    assert_eq!(as_a(query(r#"SELECT id FROM "Category" ORDER BY id"#, json!([]))).await.unwrap(), ids(&[1, 2, 4]));
    assert_eq!(
        as_a(query(r#"SELECT c.id FROM "Category" c WHERE c.name = $1 UNION SELECT id FROM "Category" WHERE slug = 'secret'"#, json!(["News"]))).await.unwrap(),
        ids(&[2])
    );
    assert_eq!(as_a(execute(r#"UPDATE "Category" SET name = name || '!'"#, json!([]))).await.unwrap(), json!(1));
    assert_eq!(as_a(execute(r#"DELETE FROM "Category" WHERE id IN (1, 3, 4, 5)"#, json!([]))).await.unwrap(), json!(0));
    let e = as_a(execute(r#"INSERT INTO "Category" ("tenantId", name, slug) VALUES (NULL, 'x', 'x')"#, json!([]))).await.unwrap_err();
    assert_eq!(e.code(), "Q3003");
    let e = as_a(execute(r#"INSERT INTO "Category" ("tenantId", name, slug) VALUES ($1, 'x', 'x')"#, json!(["tnt_b"]))).await.unwrap_err();
    assert_eq!(e.code(), "Q3002");
    assert_eq!(as_a(execute(r#"INSERT INTO "Category" (name, slug) VALUES ('x', 'x')"#, json!([]))).await.unwrap(), json!(1));
    assert_eq!(as_a(query(r#"SELECT code FROM "Country" ORDER BY code"#, json!([]))).await.unwrap(), json!([{"code": "DE"}, {"code": "FR"}, {"code": "JP"}]));
    assert_eq!(as_a(execute(r#"DELETE FROM "Country" WHERE code = 'JP'"#, json!([]))).await.unwrap_err().code(), "Q3003");
    assert_eq!(host.request(&json!({"request": execute(r#"DELETE FROM "Country" WHERE code = 'JP'"#, json!([]))})).await.unwrap_err().code(), "Q3003");
    let rekey = execute(r#"UPDATE "Country" SET CODE = 'XX' WHERE code = 'JP'"#, json!([]));
    assert_eq!(as_a(rekey.clone()).await.unwrap_err().code(), "Q3003");
    assert_eq!(host.request(&json!({"request": rekey})).await.unwrap_err().code(), "Q3003");
    // Global rows are read-only under a tenant, in raw SQL as through the model API.
    assert_eq!(as_a(execute(r#"UPDATE "Country" SET name = 'Nippon' WHERE code = 'JP'"#, json!([]))).await.unwrap_err().code(), "Q3003");
    assert_eq!(as_a(execute(r#"INSERT INTO "Country" (code, name) VALUES ('XX', 'X')"#, json!([]))).await.unwrap_err().code(), "Q3003");
    assert_eq!(as_a(execute(r#"DELETE FROM "Skill""#, json!([]))).await.unwrap_err().code(), "Q3003");
    assert_eq!(host.request(&json!({"request": execute(r#"UPDATE "Country" SET name = 'Nippon' WHERE code = 'JP'"#, json!([]))})).await.unwrap(), json!(1));
    assert_eq!(as_a(query(r#"SELECT * FROM "_SkillToUser""#, json!([]))).await.unwrap_err().code(), "Q3004");
    // The other tenant's categories are as seeded.
    let sql = format!(r#"SELECT id, name FROM "{ns}"."Category" WHERE "tenantId" IS DISTINCT FROM 'tnt_a' ORDER BY id"#);
    let rows = host.request(&json!({"request": query(&sql, json!([])), "unscoped": true})).await.unwrap();
    assert_eq!(rows, json!([{"id": 1, "name": "General"}, {"id": 3, "name": "News"}, {"id": 4, "name": "Help"}, {"id": 5, "name": "Secret"}]));
    corpus::drop_namespace(host.driver(), &ns).await;
}
