// k8s/ holds the chart rendered with its defaults for teams not on Helm. This fails when the
// chart changed and k8s/ was not regenerated (bash deploy/helm/render-k8s.sh).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT, helmBinary, parseObjects, strictDecode, validateAgainstApi } from './support/helm';

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('k8s/ plain manifests', () => {
  const k8s = path.join(ROOT, 'k8s');

  it('are exactly what deploy/helm/render-k8s.sh renders from the chart today', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'parley-k8s-'));
    try {
      const result = spawnSync('bash', [path.join(ROOT, 'deploy/helm/render-k8s.sh'), out], { encoding: 'utf8', env: { ...process.env, HELM: helmBinary() } });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(yamlFiles(k8s)).toEqual(yamlFiles(out));
      for (const file of yamlFiles(out)) {
        const committed = readFileSync(path.join(k8s, file), 'utf8');
        const fresh = readFileSync(path.join(out, file), 'utf8');
        if (committed !== fresh) throw new Error(`k8s/${file} drifted from the chart: run bash deploy/helm/render-k8s.sh and commit k8s/`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('are valid against the Kubernetes API schemas', () => {
    const objects = yamlFiles(k8s).flatMap((f) => parseObjects(readFileSync(path.join(k8s, f), 'utf8')));
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'PodDisruptionBudget', 'ServiceAccount', 'ConfigMap']));
    expect(validateAgainstApi(objects)).toEqual([]);
    const decoded = strictDecode(yamlFiles(k8s).map((f) => readFileSync(path.join(k8s, f), 'utf8')).join('\n---\n'));
    expect(decoded.errors).toEqual([]);
    // cert-manager's kinds are CRDs: validateAgainstApi checked them against their models.
    const crds = objects.filter((o) => /cert-manager\.io/.test(o.apiVersion));
    expect(crds.length).toBeGreaterThan(0);
    expect(decoded.checked).toBe(objects.length - crds.length);
    expect(decoded.skipped).toHaveLength(crds.length);
  });
});
