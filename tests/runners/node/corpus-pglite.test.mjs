// The conformance corpus through the WebAssembly engine and the PGlite adapter.
import { runCorpus } from "./support/run-corpus.mjs";

await runCorpus("pglite");
