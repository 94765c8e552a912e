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

  // The other direction: a variable without a default that the chart forgets stops the pod at
  // start (loadConfig names it), which no render would show.
  const required = (schema: { shape: Record<string, { safeParse: (v: unknown) => { success: boolean } }> }): string[] =>
    Object.entries(schema.shape).filter(([, field]) => !field.safeParse(undefined).success).map(([key]) => key);
  const requiredBy: Record<string, string[]> = {
    connector: required(connectorConfigSchema),
    router: required(routerConfigSchema),
    storage: required(storageConfigSchema),
    push: required(pushConfigSchema),
    'create-topics': required(createTopicsConfigSchema),
  };

  it('knows which variables each service requires', () => {
    expect(requiredBy.storage).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL']));
    expect(requiredBy.push).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'REDIS_URL', 'STORAGE_ADDR']));
    expect(requiredBy.router).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'STORAGE_ADDR']));
    // JWT_SECRETS or JWT_JWKS_URL: one of the two (a refinement, not a required field).
    expect(requiredBy.connector).toEqual(expect.arrayContaining(['ROUTER_ADDR', 'STORAGE_ADDR', 'REDIS_URL']));
  });

  describe.each([
    ['default values', {}],
    ['every optional feature on', { files: [path.join(__dirname, 'support/all-features.yaml')] }],
  ])('with %s', (_label, values) => {
    const rendered = render(values);
    const common = rendered.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'parley-common')!;

    it.each(['connector', 'router', 'storage', 'push'])('%s gets every variable it requires (own env or the shared ConfigMap)', (name) => {
      const workload = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === `parley-${name}`)!;
      const container = (workload.spec!.template as { spec: { containers: (Container & { envFrom?: { configMapRef?: { name: string } }[] })[] } }).spec.containers[0]!;
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'parley-common' } }]);
      const given = new Set([...(container.env ?? []).map((e) => e.name), ...Object.keys(common.data as Record<string, string>)]);
      expect(requiredBy[name]!.filter((n) => !given.has(n))).toEqual([]);
    });
  });

  it('the topics Job gets every variable create-topics requires', () => {
    const job = objects.find((o) => o.kind === 'Job')!;
    const container = (job.spec!.template as { spec: { containers: Container[] } }).spec.containers[0]!;
    const given = new Set((container.env ?? []).map((e) => e.name));
    expect(requiredBy['create-topics']!.filter((n) => !given.has(n))).toEqual([]);
  });

  it('every key of the shared ConfigMap is read by at least one service', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'parley-common')!;
    const all = new Set(Object.values(schemas).flat());
    expect(Object.keys(config.data as Record<string, string>).filter((k) => !all.has(k))).toEqual([]);
  });
});
