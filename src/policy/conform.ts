/**
 * The check Cedar's request validation did, done in TypeScript: a built request fits the
 * schema (`schema.ts`) before anything is evaluated.
 *
 * Why not let Cedar do it: with the schema named on the call, Cedar re-checks the request and
 * every entity against it and adds the schema's action entities, on every call: tens of
 * microseconds (bench/gate, "schema-checked" against "no schema check"). Our requests are
 * built by `toCedarRequest` from typed fields, so they fit by construction; what TypeScript
 * types cannot promise is the runtime values (a caller's cast, a JSON body), so those are
 * checked here against the same schema objects, in about a microsecond. A request that does
 * not fit is denied, as before.
 */

import type { TypeOfAttribute } from "./cedar.js";
import type { CedarRequest, CedarValue } from "./request.js";
import { CEDAR_SCHEMA, CONTEXT_ATTRIBUTES } from "./schema.js";
import { isWellFormed } from "./values.js";

type AttrType = TypeOfAttribute<string>;

/** Why `value` does not have `type`, or null when it does. Only the types our schema uses. */
function misfit(value: CedarValue | undefined, type: AttrType, path: string): string | null {
  switch (type.type) {
    case "String":
      if (typeof value !== "string") return `${path} must be a String`;
      return isWellFormed(value) ? null : `${path} is not well-formed text (a lone surrogate)`;
    case "Long":
      return Number.isSafeInteger(value) ? null : `${path} must be a Long`;
    case "Boolean":
      return typeof value === "boolean" ? null : `${path} must be a Boolean`;
  }
  if (type.type === "Set" && "element" in type) {
    if (!Array.isArray(value)) return `${path} must be a Set`;
    for (const item of value) {
      const bad = misfit(item, type.element, `${path}[]`);
      if (bad) return bad;
    }
    return null;
  }
  if (type.type === "Entity" && "name" in type) {
    const ref =
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? value.__entity
        : undefined;
    return ref?.type === type.name && isWellFormed(ref.id)
      ? null
      : `${path} must be a ${type.name}`;
  }
  return `${path} has a type the check does not know`;
}

/** Why `attrs` does not match the record type `shape` exactly (no attribute missing or extra). */
function recordMisfit(
  attrs: Record<string, CedarValue>,
  shape: Record<string, AttrType>,
  path: string,
): string | null {
  for (const key of Object.keys(attrs)) {
    if (!Object.hasOwn(shape, key)) return `${path} has no attribute ${key} in the schema`;
  }
  for (const [key, type] of Object.entries(shape)) {
    const bad = misfit(attrs[key], type, `${path}.${key}`);
    if (bad) return bad;
  }
  return null;
}

const entityTypes = CEDAR_SCHEMA[""]!.entityTypes;

function entityShape(type: string): Record<string, AttrType> | null {
  if (!Object.hasOwn(entityTypes, type)) return null;
  const shape = (entityTypes[type] as { shape?: { attributes?: Record<string, AttrType> } }).shape;
  return shape?.attributes ?? {};
}

/**
 * Why `req` does not fit the schema, or null when it does: the context has exactly the
 * schema's attributes with their types, and each entity its type's attributes.
 *
 * @example requestMisfit({ ...built, context: { ...built.context, entitled: "yes" } })
 *   // "context.entitled must be a Boolean"
 */
export function requestMisfit(req: CedarRequest): string | null {
  for (const uid of [req.principal, req.resource]) {
    if (!isWellFormed(uid.id)) return `${uid.type} id must be a well-formed string`;
  }
  const bad = recordMisfit(req.context, CONTEXT_ATTRIBUTES, "context");
  if (bad) return bad;
  for (const entity of req.entities) {
    const shape = entityShape(entity.uid.type);
    if (!shape) return `entity type ${entity.uid.type} is not in the schema`;
    const wrong = recordMisfit(entity.attrs, shape, `${entity.uid.type}`);
    if (wrong) return wrong;
    if (!isWellFormed(entity.uid.id)) return `${entity.uid.type} id must be a well-formed string`;
  }
  return null;
}
