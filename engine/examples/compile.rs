//! Prints the SQL a request compiles to: `cargo run -p quarry-engine --example compile -- schema.prisma request.json [tenant]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let schema = std::fs::read_to_string(&args[1]).expect("schema file");
    let request: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&args[2]).expect("request file")).expect("json");
    let engine = quarry_engine::Engine::new(&schema, Default::default()).expect("schema");
    let ctx = match args.get(3) {
        Some(t) => quarry_engine::scope::TenantContext::from_json(engine.schema(), Some(&serde_json::json!(t))).expect("tenant"),
        None => quarry_engine::scope::TenantContext::Unscoped,
    };
    match engine.compile(&request, &ctx, quarry_engine::exec::Dialect::Postgres) {
        Ok(c) => {
            for s in c["statements"].as_array().into_iter().flatten() {
                println!("{}\n  -- {}\n", s["sql"].as_str().unwrap_or_default(), s["params"]);
            }
        }
        Err(e) => println!("error {e:?}"),
    }
}
