// The fleet wire protocol lives with the control plane (src/schedcp/protocol/), defined once for
// both ends; host-agent imports it through this file only. The build bundles it (see package.json).
export * from "../../src/schedcp/protocol/index.js";
