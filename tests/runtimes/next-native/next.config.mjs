// Nothing for Quarry here (no serverExternalPackages): the app sits inside the repository, whose
// root is the project root for Turbopack and for output tracing.
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export default {
  turbopack: { root },
  outputFileTracingRoot: root,
};
