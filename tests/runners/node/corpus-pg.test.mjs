// The conformance corpus through the WebAssembly engine and the node-postgres adapter, against
// the PostgreSQL server in DATABASE_URL.
import { runCorpus } from "./support/run-corpus.mjs";

await runCorpus("pg");
