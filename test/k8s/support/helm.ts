// Runs helm against deploy/helm/parley and parses what it renders. Helm is installed by
// deploy/local/helm.sh (infra.sh install): when it is missing the tests fail, never skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(__dirname, '../../..');
export const CHART = path.join(ROOT, 'deploy/helm/parley');
/** The Kubernetes version templates are rendered for (a `go install`ed helm defaults to 1.20). */
export const KUBE_VERSION = '1.31.0';

export function helmBinary(): string {
  if (process.env.HELM) return process.env.HELM;
  const local = path.join(ROOT, '.local/tools/bin/helm');
  if (existsSync(local)) return local;
  const found = spawnSync('bash', ['-c', 'command -v helm'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  throw new Error('helm not found: run `bash deploy/local/helm.sh` (./parley test does it through infra.sh install)');
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `--set`-style overrides as helm arguments; values files as -f. */
export function valueArgs(values: { files?: string[]; set?: string[] } = {}): string[] {
  return [...(values.files ?? []).flatMap((f) => ['-f', f]), ...(values.set ?? []).flatMap((s) => ['--set', s])];
}

export function template(values: { files?: string[]; set?: string[] } = {}): HelmResult {
  return helm(['template', 'parley', CHART, '--namespace', 'parley', '--kube-version', KUBE_VERSION, ...valueArgs(values)]);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export function parseObjects(yamlText: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

/** Renders and parses; throws with helm's message when rendering fails. */
export function render(values: { files?: string[]; set?: string[] } = {}): K8sObject[] {
  const result = template(values);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseObjects(result.stdout);
}

/** Validates objects against the Kubernetes OpenAPI schemas (support/validate-k8s.mjs); returns the failures. */
export function validateAgainstApi(objects: K8sObject[]): { name: string; error: string }[] {
  const result = spawnSync(process.execPath, [path.join(__dirname, 'validate-k8s.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    cwd: path.join(ROOT, 'test'),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`validate-k8s.mjs failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { name: string; error: string }[];
}

/**
 * Strict decoding into the Kubernetes API's Go types (deploy/helm/strict, built by
 * deploy/local/helm.sh): unknown fields, duplicates and wrong types fail, which the JSON
 * schemas above let through. CRD kinds are reported as skipped.
 */
export function strictDecode(yamlText: string): { status: number; checked: number; skipped: string[]; errors: string[] } {
  const local = path.join(ROOT, '.local/tools/bin/parley-k8s-strict');
  const binary = process.env.PARLEY_K8S_STRICT ?? local;
  if (!existsSync(binary)) throw new Error('parley-k8s-strict not found: run `bash deploy/local/helm.sh` (./parley test does it through infra.sh install)');
  const result = spawnSync(binary, [], { input: yamlText, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  const lines = result.stdout.split('\n');
  return {
    status: result.status ?? -1,
    checked: Number(lines.find((l) => l.startsWith('checked: '))?.slice('checked: '.length) ?? -1),
    skipped: lines.filter((l) => l.startsWith('skipped: ')),
    errors: lines.filter((l) => l.startsWith('error: ')),
  };
}
