/**
 * The Cedar functions this folder uses. Every build of `@cedar-policy/cedar-wasm` (web, nodejs,
 * esm) has the same API; taking it as a value keeps the loader (`cedar-wasm.ts`, workerd only)
 * apart from the logic, which the Node benchmark reuses.
 */

import type * as CedarWasm from "@cedar-policy/cedar-wasm/web";

export type Cedar = Pick<
  typeof CedarWasm,
  | "policySetTextToParts"
  | "policyToJson"
  | "preparsePolicySet"
  | "statefulIsAuthorized"
  | "validate"
>;

export type {
  DetailedError,
  PolicyJson,
  SchemaJson,
  TypeOfAttribute,
} from "@cedar-policy/cedar-wasm/web";
