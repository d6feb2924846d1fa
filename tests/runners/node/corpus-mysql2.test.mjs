// The conformance corpus through the WebAssembly engine with provider "mysql" and the
// mysql2 adapter, against the MariaDB server in MYSQL_URL.
import { runCorpus } from "./support/run-corpus.mjs";

await runCorpus("mysql2");
