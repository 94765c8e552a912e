// Validates Kubernetes objects against the API's OpenAPI schemas (kubernetes-models and its
// KEDA / prometheus-operator / cert-manager CRD models). Reads a JSON array of objects on stdin and prints a
// JSON array of { name, error } for the objects that fail or whose kind has no model.
// An ES module run by node directly: the model packages are ESM-only and jest runs CommonJS.
import { Buffer } from 'node:buffer';

const packages = [
  (group, version, kind) => (group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`),
  (group, version, kind) => `@kubernetes-models/keda/${group}/${version}/${kind}`,
  (group, version, kind) => `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`,
  (group, version, kind) => `@kubernetes-models/cert-manager/${group}/${version}/${kind}`,
];

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  for (const path of packages) {
    try {
      const mod = await import(path(group, version, kind));
      if (mod[kind]) return mod[kind];
    } catch {
      // not in this package
    }
  }
  return undefined;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const failures = [];
for (const object of objects) {
  const name = `${object.apiVersion}/${object.kind}/${object.metadata?.name}`;
  const Model = await modelFor(object.apiVersion, object.kind);
  if (!Model) {
    failures.push({ name, error: 'no schema for this apiVersion/kind' });
    continue;
  }
  try {
    new Model(object).validate();
  } catch (err) {
    failures.push({ name, error: String(err?.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(failures));
