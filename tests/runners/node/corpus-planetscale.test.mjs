// The conformance corpus through the WebAssembly engine with provider "mysql" and the
// PlanetScale adapter over the local double of PlanetScale's HTTP API, against the MariaDB
// server in MYSQL_URL.
import { runCorpus } from "./support/run-corpus.mjs";

await runCorpus("planetscale");
