// Every environment variable the chart gives a container is one its service reads: a typo
// here would be ignored silently by the service (loadConfig reads only the keys it knows).
import * as path from 'node:path';
import { connectorConfigSchema } from '../../services/connector/src/config';
import { pushConfigSchema } from '../../services/push/src/config';
import { routerConfigSchema } from '../../services/router/src/config';
import { createTopicsConfigSchema } from '../../services/storage/src/create-topics-config';
import { storageConfigSchema } from '../../services/storage/src/config';
import { render } from './support/helm';

const keysOf = (schema: { shape: Record<string, unknown> }): string[] => Object.keys(schema.shape);

const schemas: Record<string, string[]> = {
  connector: keysOf(connectorConfigSchema),
  router: keysOf(routerConfigSchema),
  storage: keysOf(storageConfigSchema),
  push: keysOf(pushConfigSchema),
  'create-topics': keysOf(createTopicsConfigSchema),
};
// Set for the downward API and expanded into ADVERTISE_ADDR, not read by the service itself.
const HELPERS = new Set(['POD_IP']);

type Container = { name: string; env?: { name: string }[] };

describe('environment the chart sets', () => {
  const objects = render({ files: [path.join(__dirname, 'support/all-features.yaml')] });

  it.each(['connector', 'router', 'storage', 'push', 'create-topics'])('%s reads every variable it is given', (name) => {
    expect(schemas[name]!.length).toBeGreaterThan(5);
    const workload = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'Job') && ((o.spec?.template as { spec: { containers: Container[] } }).spec.containers[0]!.name === name));
    const container = (workload!.spec!.template as { spec: { containers: Container[] } }).spec.containers[0]!;
    // connector.env in all-features.yaml adds MAX_CONNECTIONS: a real variable too.
    const unknown = (container.env ?? []).map((e) => e.name).filter((n) => !HELPERS.has(n) && !schemas[name]!.includes(n));
    expect(unknown).toEqual([]);
  });

  it('every key of the shared ConfigMap is read by at least one service', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'parley-common')!;
    const all = new Set(Object.values(schemas).flat());
    expect(Object.keys(config.data as Record<string, string>).filter((k) => !all.has(k))).toEqual([]);
  });
});
