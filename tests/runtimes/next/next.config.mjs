// The smoke app sits inside the repository, and `quarry` is the workspace's own package: the
// repository is the project root for Turbopack and for output tracing.
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export default {
  turbopack: { root },
  outputFileTracingRoot: root,
};
