// The conformance corpus through the native addon (the engine with its own tokio-postgres pool),
// against the PostgreSQL server in DATABASE_URL.
import { runCorpus } from "./support/run-corpus.mjs";

await runCorpus("native");
