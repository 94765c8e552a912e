// Owns the JSON form of Parley's API messages (the protobuf JSON mapping), for the HTTP/JSON
// API: a request's JSON is checked field by field against the same proto/ files the gRPC
// servers load and turned into the same bytes a gRPC client would send, so a handler cannot
// tell the two forms apart; a response's bytes become JSON the same way.
//
// Strict where protobufjs's own `fromObject` is lenient: an unknown field, a string where a
// number belongs or a fraction in an integer is refused with the field's path, rather than
// silently dropped or coerced to 0 (a typo in a curl call should say so).
import * as protobuf from 'protobufjs';
import { PROTO_FILES, protoDir } from './index';

/** A JSON body that does not fit the request message; `path` names the field (`items[2].body`). */
export class JsonShapeError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'JsonShapeError';
  }
}

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${protoDir()}/${target}`);
    r.loadSync([...PROTO_FILES], { keepCase: false });
    r.resolveAll();
    root = r;
  }
  return root;
}

export interface JsonMethodCodec {
  /** The request message's bytes for a JSON value; throws JsonShapeError. */
  requestFromJson(value: unknown): Buffer;
  /** A response message's bytes as JSON (64-bit integers as strings, enums by name, every field). */
  responseToJson(bytes: Buffer): unknown;
}

/** The codec of `package.Service/Method` (for example `parley.v1.Storage/CreateGroup`), or undefined. */
export function jsonMethodCodec(service: string, method: string): JsonMethodCodec | undefined {
  let m: protobuf.Method | undefined;
  try {
    m = loadRoot().lookupService(service).methods[method];
  } catch {
    return undefined;
  }
  if (!m || m.requestStream || m.responseStream || !m.resolvedRequestType || !m.resolvedResponseType) return undefined;
  const request = m.resolvedRequestType;
  const response = m.resolvedResponseType;
  return {
    requestFromJson: (value) => Buffer.from(request.encode(request.fromObject(messageFromJson(request, value, ''))).finish()),
    responseToJson: (bytes) => response.toObject(response.decode(bytes), { longs: String, enums: String, bytes: String, defaults: true, arrays: true, json: true }),
  };
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

function at(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** A field of the message by name; never a property of Object.prototype (`__proto__`, `constructor`). */
function ownField(type: protobuf.Type, name: string): protobuf.Field | undefined {
  return Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
}

/** A plain object protobufjs's fromObject takes as it is: names resolved, every value typed. */
function messageFromJson(type: protobuf.Type, value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonShapeError(path, `expected a JSON object (${type.name})`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // The JSON mapping's lowerCamelCase name, or the field's name as written in the .proto.
    const field = ownField(type, key) ?? ownField(type, key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
    if (!field) throw new JsonShapeError(at(path, key), `${type.name} has no such field`);
    if (v === null) continue; // null means the default, as the mapping says
    const p = at(path, field.name);
    if (field.map) {
      if (typeof v !== 'object' || Array.isArray(v)) throw new JsonShapeError(p, 'expected a JSON object (a map)');
      out[field.name] = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, valueFromJson(field, x, `${p}[${JSON.stringify(k)}]`)]));
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw new JsonShapeError(p, 'expected a JSON array');
      out[field.name] = v.map((x, i) => valueFromJson(field, x, `${p}[${i}]`));
    } else {
      out[field.name] = valueFromJson(field, v, p);
    }
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => out[name] !== undefined);
    if (set.length > 1) throw new JsonShapeError(path, `at most one of ${oneof.oneof.join(', ')} may be set`);
  }
  return out;
}

function integerFromJson(v: unknown, path: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new JsonShapeError(path, 'expected an integer (a JSON number or a decimal string)');
  if (n < min || n > max) throw new JsonShapeError(path, `out of range ${min}..${max}`);
  return n;
}

function valueFromJson(field: protobuf.Field, v: unknown, path: string): unknown {
  const t = field.type;
  if (field.resolvedType instanceof protobuf.Type) return messageFromJson(field.resolvedType, v, path);
  if (field.resolvedType instanceof protobuf.Enum) {
    const e = field.resolvedType;
    if (typeof v === 'string' && e.values[v] !== undefined) return e.values[v];
    if (typeof v === 'number' && Number.isInteger(v) && e.valuesById[v] !== undefined) return v;
    throw new JsonShapeError(path, `expected one of ${Object.keys(e.values).join(', ')}`);
  }
  if (t === 'string') {
    if (typeof v !== 'string') throw new JsonShapeError(path, 'expected a string');
    return v;
  }
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw new JsonShapeError(path, 'expected true or false');
    return v;
  }
  if (INT32.has(t)) return integerFromJson(v, path, -0x80000000, 0x7fffffff);
  if (UINT32.has(t)) return integerFromJson(v, path, 0, 0xffffffff);
  // Parley's 64-bit fields (seqs, times, counts) stay within 2^53 (they are numbers in every service).
  if (INT64.has(t)) return integerFromJson(v, path, t.startsWith('u') || t.startsWith('fixed') ? 0 : Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (t === 'double' || t === 'float') {
    if (typeof v === 'number') return v;
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    throw new JsonShapeError(path, 'expected a number');
  }
  if (t === 'bytes') {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new JsonShapeError(path, 'expected base64');
    return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
  }
  throw new JsonShapeError(path, `unsupported field type ${t}`);
}
