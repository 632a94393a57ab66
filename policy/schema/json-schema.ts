/**
 * Turns Kubernetes' OpenAPI schemas (the published v3 documents and CRD openAPIV3Schema) into plain
 * JSON Schema that ajv validates the way the API server's strict field validation does: an object
 * accepts only the fields it declares (unless it preserves unknown fields), int-or-string and
 * quantities accept both forms, and list-type map/set lists reject duplicate keys.
 */

export type Schema = Record<string, unknown>;

/** Custom keyword: the keys that identify an entry of an `x-kubernetes-list-type: map` list. */
export const LIST_MAP_KEYWORD = 'x-k8s-list-map-keys';
export interface ListMapKeys {
  readonly keys: readonly string[];
  /** Defaults of key fields the server fills in before comparing (e.g. a port's protocol TCP). */
  readonly defaults: Readonly<Record<string, unknown>>;
}

/** Formats the API server validates; others are annotations only and dropped. */
export const KNOWN_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'date-time', 'date', 'uuid', 'quantity', 'ipv4', 'ipv6', 'hostname', 'uri', 'email'];

/** Validation keywords kept from the source schemas; descriptions, defaults and x- extensions are dropped. */
const KEPT = [
  'type',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'required',
];

interface Options {
  /** Maps a source `$ref` to the ref ajv should follow. */
  readonly ref: (ref: string) => string;
  /** Resolves a source `$ref` to its source schema (to read list-map key defaults). */
  readonly resolve: (ref: string) => Schema | undefined;
  /**
   * CRD (structural schema) semantics: an object without declared properties accepts no fields
   * unless it preserves unknown fields, since the server prunes them. Core types leave such objects
   * open (RawExtension, FieldsV1 are free-form).
   */
  readonly structural: boolean;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema behind a `{ allOf: [{ $ref }] }` wrapper or a direct `$ref`, for reading its properties. */
function deref(schema: Schema, opts: Options): Schema {
  if (typeof schema.$ref === 'string') return opts.resolve(schema.$ref) ?? schema;
  const allOf = schema.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isSchema(allOf[0]) && typeof allOf[0].$ref === 'string') {
    return opts.resolve(allOf[0].$ref) ?? schema;
  }
  return schema;
}

function isIntOrStringUnion(list: unknown): boolean {
  if (!Array.isArray(list) || list.length !== 2) return false;
  const types = list.map((s) => (isSchema(s) && Object.keys(s).length === 1 ? s.type : undefined)).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

/**
 * Converts one schema. `inJunctor` is true below allOf/anyOf/oneOf/not, whose branches only add
 * value validation in structural schemas: they must not close objects the outer schema declares.
 */
export function toStrictJsonSchema(source: Schema, opts: Options, inJunctor = false): Schema {
  const out: Schema = {};
  for (const key of KEPT) if (source[key] !== undefined) out[key] = source[key];

  if (typeof source.$ref === 'string') out.$ref = opts.ref(source.$ref);
  if (typeof source.format === 'string') {
    if (source.format === 'int-or-string') out.type = ['integer', 'string'];
    else if (KNOWN_FORMATS.includes(source.format)) out.format = source.format;
  }
  // OpenAPI 3.0 booleans to JSON Schema's numeric exclusive bounds.
  if (source.exclusiveMinimum === true && typeof source.minimum === 'number') {
    out.exclusiveMinimum = source.minimum;
    delete out.minimum;
  }
  if (source.exclusiveMaximum === true && typeof source.maximum === 'number') {
    out.exclusiveMaximum = source.maximum;
    delete out.maximum;
  }

  const intOrString = source['x-kubernetes-int-or-string'] === true || source.format === 'int-or-string';
  if (intOrString) out.type = ['integer', 'string'];

  for (const junctor of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = source[junctor];
    if (!Array.isArray(list)) continue;
    // The int-or-string union is already expressed by the type list.
    if (intOrString && (junctor === 'anyOf' || junctor === 'oneOf') && isIntOrStringUnion(list)) continue;
    // A lone `allOf: [{$ref}]` is how the v3 documents attach a description to a reference.
    if (junctor === 'allOf' && list.length === 1 && isSchema(list[0]) && typeof list[0].$ref === 'string' && Object.keys(list[0]).length === 1) {
      out.$ref = opts.ref(list[0].$ref);
      continue;
    }
    out[junctor] = list.filter(isSchema).map((s) => toStrictJsonSchema(s, opts, true));
  }
  if (isSchema(source.not)) out.not = toStrictJsonSchema(source.not, opts, true);

  const properties = isSchema(source.properties) ? source.properties : undefined;
  const preserve = source['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = source['x-kubernetes-embedded-resource'] === true;
  if (properties || embedded) {
    const props: Schema = {};
    for (const [name, child] of Object.entries(properties ?? {})) {
      if (isSchema(child)) props[name] = toStrictJsonSchema(child, opts, inJunctor);
    }
    if (embedded) {
      for (const name of ['apiVersion', 'kind']) props[name] ??= { type: 'string' };
      props.metadata ??= { type: 'object' };
    }
    out.properties = props;
  }
  if (isSchema(source.additionalProperties)) {
    out.additionalProperties = toStrictJsonSchema(source.additionalProperties, opts, inJunctor);
  } else if (typeof source.additionalProperties === 'boolean') {
    out.additionalProperties = source.additionalProperties;
  } else if (!preserve && !inJunctor && (properties || embedded || (opts.structural && source.type === 'object'))) {
    out.additionalProperties = false;
  }
  if (isSchema(source.items)) out.items = toStrictJsonSchema(source.items, opts, inJunctor);

  const listType = source['x-kubernetes-list-type'];
  if (listType === 'set') out.uniqueItems = true;
  if (listType === 'map' && Array.isArray(source['x-kubernetes-list-map-keys']) && isSchema(source.items)) {
    const keys = (source['x-kubernetes-list-map-keys'] as unknown[]).filter((k): k is string => typeof k === 'string');
    const itemProps = deref(source.items, opts).properties;
    const defaults: Record<string, unknown> = {};
    for (const key of keys) {
      const prop = isSchema(itemProps) ? itemProps[key] : undefined;
      if (isSchema(prop) && prop.default !== undefined) defaults[key] = prop.default;
    }
    const keyword: ListMapKeys = { keys, defaults };
    out[LIST_MAP_KEYWORD] = keyword;
  }

  if (source.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}
