import type { Parameters } from "../protocol/index.js";

/*
 * A policy's parameters become C preprocessor constants when its BPF object is built: the
 * parameter `slice_us` is `-DEK_SLICE_US=<value>`. Integers and booleans only (a BPF program
 * has no use for a string constant, and no string reaches the compiler's command line).
 * Pure: the control plane's static checks and the verifier's compile stage share it.
 */

/** The macro that carries a parameter: `slice_us` → `EK_SLICE_US`. */
export function tunableMacro(name: string): string {
  return `EK_${name.toUpperCase()}`;
}

export type DefinesResult =
  | { ok: true; defines: string[] }
  | { ok: false; parameter: string; message: string };

/**
 * The `-D` flags for `parameters`, in name order.
 *
 * @example
 * parameterDefines({ slice_us: 5000, wakeup_boost: false })
 * // { ok: true, defines: ["-DEK_SLICE_US=5000", "-DEK_WAKEUP_BOOST=0"] }
 */
export function parameterDefines(parameters: Parameters): DefinesResult {
  const defines: string[] = [];
  for (const name of Object.keys(parameters).sort()) {
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(name)) {
      return { ok: false, parameter: name, message: "expected a lowercase identifier" };
    }
    const value = parameters[name];
    if (typeof value === "boolean") {
      defines.push(`-D${tunableMacro(name)}=${value ? 1 : 0}`);
    } else if (typeof value === "number" && Number.isSafeInteger(value)) {
      defines.push(`-D${tunableMacro(name)}=${value < 0 ? `(${value})` : value}`);
    } else {
      return {
        ok: false,
        parameter: name,
        message: "a BPF policy's parameter must be an integer or a boolean",
      };
    }
  }
  return { ok: true, defines };
}
