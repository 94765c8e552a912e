// Structure-aware fuzzing for Parley's decoders (Kafka records, client and server frames, stored
// sessions): from a valid value, one field removed, replaced by any JSON value, or retyped
// (string <-> number, object <-> array, a boundary value). A decoder must then either return a
// valid value or throw its own typed error, never anything else. Shared by the packages' tests.
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Bounded runs: each fuzz property stays well under a second or two. */
export const FUZZ_RUNS = { numRuns: 400 } as const;

/** Every path into a JSON value (object keys, array indexes), the root excluded. */
export function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

function get(value: Json, path: Path): Json {
  let at: Json = value;
  for (const step of path) at = (at as Record<string | number, Json>)[step]!;
  return at;
}

/** A copy of value with the node at path replaced (or removed when replacement is undefined). */
function replaced(value: Json, path: Path, replacement: Json | undefined): Json {
  const copy = JSON.parse(JSON.stringify(value)) as Json;
  const parent = get(copy, path.slice(0, -1)) as Record<string | number, Json> | Json[];
  const last = path[path.length - 1]!;
  if (replacement !== undefined) (parent as Record<string | number, Json>)[last] = replacement;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete (parent as Record<string, Json>)[last as string];
  return copy;
}

/** The same value as another JSON type, where that is close enough to fool a careless check. */
function retyped(node: Json): Json[] {
  if (typeof node === 'string') return [node.length, Number(node) || 0, [node], { value: node }, node === '' ? 'x' : ''];
  if (typeof node === 'number') return [String(node), -node - 1, node + 0.5, Number.MAX_SAFE_INTEGER + 2, 0, -1];
  if (typeof node === 'boolean') return [String(node), node ? 1 : 0];
  if (Array.isArray(node)) return [{ ...node }, node.length, []];
  if (node === null) return [0, '', {}];
  return [Object.values(node), JSON.stringify(node), {}];
}

const BOUNDARY: Json[] = [null, true, false, 0, -1, 1.5, 2 ** 53, '', ' ', 'x'.repeat(300), '__proto__', [], {}, [null], { v: 1 }];

/** One mutation of one field of value (a value with no field is replaced whole). */
export function mutationOf(value: Json): fc.Arbitrary<Json> {
  const paths = pathsOf(value);
  if (paths.length === 0) return fc.oneof(fc.jsonValue() as fc.Arbitrary<Json>, fc.constantFrom(...BOUNDARY));
  return fc.constantFrom(...paths).chain((path) => {
    const node = get(value, path);
    return fc.oneof(
      fc.constant(replaced(value, path, undefined)),
      fc.constantFrom(...retyped(node)).map((r) => replaced(value, path, r)),
      fc.constantFrom(...BOUNDARY).map((r) => replaced(value, path, r)),
      (fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>).map((r) => replaced(value, path, r)),
    );
  });
}

/** Valid values, each with one field mutated. */
export function mutated(valid: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return valid.chain(mutationOf);
}

/**
 * Runs decode; it must return something `isValid` accepts or throw an instance of `errorType`.
 * Anything else (a TypeError, a RangeError, an invalid value let through) fails the property.
 */
export function expectDecodesOrRefuses<T>(decode: () => T, isValid: (value: T) => boolean | string, errorType: abstract new (...args: never[]) => Error): void {
  let value: T;
  try {
    value = decode();
  } catch (err) {
    if (err instanceof errorType) return;
    throw new Error(`threw ${(err as Error)?.name ?? typeof err} instead of ${errorType.name}: ${String((err as Error)?.message ?? err)}`);
  }
  const verdict = isValid(value);
  if (verdict !== true) throw new Error(`decoded to an invalid value${typeof verdict === 'string' ? ` (${verdict})` : ''}: ${JSON.stringify(value)}`);
}
