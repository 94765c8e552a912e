// The Helm chart: lints, renders with the defaults and with every optional feature on, every
// rendered object is valid against the Kubernetes API schemas, the pods are locked down and
// drain in time, autoscaling respects the partition count, and bad values are refused with
// a message that names them.
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { DLQ_RETENTION_MS, MEMBERSHIP_RETENTION_MS, TOPIC_KEYS, topicSpecs } from '@parley/bus';
import { CHART, KUBE_VERSION, ROOT, helm, parseObjects, render, strictDecode, template, validateAgainstApi, valueArgs, type K8sObject } from './support/helm';

const ALL = path.join(__dirname, 'support/all-features.yaml');
// The same, with the lag autoscalers swapped (storage on an external metric, push on KEDA).
const SWAPPED = [
  'storage.autoscaling.keda.enabled=false',
  'storage.autoscaling.externalMetric.enabled=true',
  'push.autoscaling.keda.enabled=true',
  'push.autoscaling.externalMetric.enabled=false',
];

type Obj = Record<string, unknown>;
const get = (o: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Obj)[k as string] : undefined), o);
const kinds = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
const SERVICES = ['connector', 'router', 'storage', 'push'];

interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  securityContext?: Obj;
  readinessProbe?: Obj;
  livenessProbe?: Obj;
  startupProbe?: Obj;
  lifecycle?: Obj;
  resources?: Obj;
  ports?: { name: string; containerPort: number }[];
}
const podSpec = (d: K8sObject): Obj => get(d, 'spec', 'template', 'spec') as Obj;
const container = (d: K8sObject): Container => (podSpec(d).containers as Container[])[0]!;
const envOf = (d: K8sObject, name: string) => container(d).env?.find((e) => e.name === name);

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['every optional feature on', ['-f', ALL]],
  ])('passes with %s', (_label, args) => {
    const result = helm(['lint', CHART, '--strict', '--kube-version', KUBE_VERSION, ...args]);
    expect(`${result.stdout}${result.stderr}`).toContain('0 chart(s) failed');
    expect(result.status).toBe(0);
  });
});

describe.each([
  ['default values', {}],
  ['every optional feature on', { files: [ALL] }],
  ['every optional feature on, lag autoscalers swapped', { files: [ALL], set: SWAPPED }],
])('helm template with %s', (label, values) => {
  const objects = render(values);
  const deployments = kinds(objects, 'Deployment');

  it('renders a Deployment, ServiceAccount, headless Service and PodDisruptionBudget per service', () => {
    for (const name of SERVICES) {
      for (const kind of ['Deployment', 'ServiceAccount', 'PodDisruptionBudget']) {
        expect(objects.find((o) => o.kind === kind && o.metadata.name === `parley-${name}`)).toBeDefined();
      }
      const headless = objects.find((o) => o.kind === 'Service' && o.metadata.name === `parley-${name}-headless`);
      expect(get(headless, 'spec', 'clusterIP')).toBe('None');
    }
    expect(get(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'parley-connector'), 'spec', 'ports', 0, 'targetPort')).toBe('ws');
  });

  it('every object is valid against the Kubernetes API schemas', () => {
    expect(objects.length).toBeGreaterThan(15);
    expect(validateAgainstApi(objects)).toEqual([]);
  });

  it('writes large numbers as plain integers (YAML floats would print 6.048e+08)', () => {
    const text = template(values).stdout;
    if (label !== 'default values') expect(text).toMatch(/value: "604800000"[\s\S]*value: "1000000"|value: "1000000"[\s\S]*value: "604800000"/);
    expect(text.match(/\d\.?\d*e\+\d+/g) ?? []).toEqual([]);
  });

  it('every built-in object decodes strictly into the Kubernetes API types (no unknown or mistyped field)', () => {
    const decoded = strictDecode(template(values).stdout);
    expect(decoded.errors).toEqual([]);
    expect(decoded.status).toBe(0);
    const crds = objects.filter((o) => /keda\.sh|monitoring\.coreos\.com|cert-manager\.io/.test(o.apiVersion));
    expect(decoded.checked).toBe(objects.length - crds.length);
    expect(decoded.skipped).toHaveLength(crds.length);
  });

  it('every object is namespaced to the release and labelled', () => {
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('parley');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('parley');
    }
  });

  it('pods run as non-root on a read-only root filesystem with no capabilities and RuntimeDefault seccomp', () => {
    const pods = [...deployments.map(podSpec), ...kinds(objects, 'Job').map(podSpec)];
    expect(pods.length).toBeGreaterThanOrEqual(4);
    for (const pod of pods) {
      expect(get(pod, 'securityContext', 'runAsNonRoot')).toBe(true);
      expect(get(pod, 'securityContext', 'seccompProfile', 'type')).toBe('RuntimeDefault');
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers as Container[]) {
        expect(get(c, 'securityContext', 'readOnlyRootFilesystem')).toBe(true);
        expect(get(c, 'securityContext', 'allowPrivilegeEscalation')).toBe(false);
        expect(get(c, 'securityContext', 'capabilities', 'drop')).toEqual(['ALL']);
        expect(get(c, 'securityContext', 'seccompProfile', 'type')).toBe('RuntimeDefault');
        expect(get(c, 'resources', 'requests', 'cpu')).toBeDefined();
        expect(get(c, 'resources', 'limits', 'memory')).toBeDefined();
      }
    }
  });

  it('probes /healthz and /readyz on HTTP_PORT, spreads over zones and nodes', () => {
    for (const d of deployments) {
      const c = container(d);
      const httpPort = c.ports?.find((p) => p.name === 'http')?.containerPort;
      expect(envOf(d, 'HTTP_PORT')?.value).toBe(String(httpPort));
      expect(get(c.readinessProbe, 'httpGet')).toEqual({ path: '/readyz', port: 'http' });
      expect(get(c.livenessProbe, 'httpGet')).toEqual({ path: '/healthz', port: 'http' });
      expect(get(c.startupProbe, 'httpGet')).toEqual({ path: '/healthz', port: 'http' });
      const spread = podSpec(d).topologySpreadConstraints as Obj[];
      expect(spread.map((s) => s.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    }
  });

  it('gives each pod time to drain: grace period = preStop sleep + SHUTDOWN_TIMEOUT_MS + margin', () => {
    for (const d of deployments) {
      const sleep = Number((get(container(d).lifecycle, 'preStop', 'exec', 'command') as string[])[1]);
      const shutdownMs = Number(envOf(d, 'SHUTDOWN_TIMEOUT_MS')?.value);
      const grace = podSpec(d).terminationGracePeriodSeconds as number;
      expect(sleep).toBeGreaterThan(0);
      expect(shutdownMs).toBeGreaterThan(0);
      expect(grace).toBeGreaterThan(sleep + shutdownMs / 1000);
    }
    const connector = deployments.find((d) => d.metadata.name === 'parley-connector')!;
    // Rollouts wait until one connector's drain (preStop + window) is over before stopping the next.
    const connectorSleep = Number((get(container(connector).lifecycle, 'preStop', 'exec', 'command') as string[])[1]);
    expect(connector.spec?.minReadySeconds).toBeGreaterThanOrEqual(connectorSleep + Number(envOf(connector, 'DRAIN_WINDOW_MS')?.value) / 1000);
    // The connector's own rule (services/connector/src/config.ts): window + 5 s margin within the shutdown limit.
    expect(Number(envOf(connector, 'SHUTDOWN_TIMEOUT_MS')?.value)).toBeGreaterThanOrEqual(Number(envOf(connector, 'DRAIN_WINDOW_MS')?.value) + 5000);
  });

  it('wires the services together with the real variable names', () => {
    const byName = (n: string) => deployments.find((d) => d.metadata.name === `parley-${n}`)!;
    const connector = byName('connector');
    expect(envOf(connector, 'ADVERTISE_ADDR')?.value).toBe('$(POD_IP):7000');
    expect(get(envOf(connector, 'POD_IP')?.valueFrom, 'fieldRef', 'fieldPath')).toBe('status.podIP');
    expect(envOf(connector, 'ROUTER_ADDR')?.value).toBe('dns:///parley-router-headless.parley.svc.cluster.local:7001');
    expect(envOf(connector, 'STORAGE_ADDR')?.value).toBe('dns:///parley-storage-headless.parley.svc.cluster.local:7002');
    expect(envOf(byName('router'), 'STORAGE_ADDR')?.value).toBe(envOf(connector, 'STORAGE_ADDR')?.value);
    const secretKey = (d: K8sObject, n: string) => get(envOf(d, n)?.valueFrom, 'secretKeyRef', 'key');
    expect(secretKey(connector, 'JWT_SECRETS')).toBe('JWT_SECRETS');
    expect(secretKey(connector, 'REDIS_URL')).toBe('REDIS_URL');
    expect(secretKey(byName('push'), 'REDIS_URL')).toBe('REDIS_URL');
    expect(secretKey(byName('storage'), 'MONGO_URL')).toBe('MONGO_URL');
    // Storage keeps its registers in Redis: the same Secret key as connector and push, the prefix from the ConfigMap.
    expect(secretKey(byName('storage'), 'REDIS_URL')).toBe('REDIS_URL');
    expect(get(envOf(byName('storage'), 'REDIS_URL')?.valueFrom, 'secretKeyRef', 'name')).toBe(get(envOf(connector, 'REDIS_URL')?.valueFrom, 'secretKeyRef', 'name'));
    // Push reads member lists from storage's gRPC.
    expect(envOf(byName('push'), 'STORAGE_ADDR')?.value).toBe('dns:///parley-storage-headless.parley.svc.cluster.local:7002');
    // The services' own defaults, written out so an operator sees and can change them.
    const values = (n: string, names: string[]) => Object.fromEntries(names.map((v) => [v, envOf(byName(n), v)?.value]));
    expect(values('storage', ['MAX_GROUP_MEMBERS', 'MAX_PAGE_SIZE', 'READ_CACHE_BYTES'])).toEqual({ MAX_GROUP_MEMBERS: '100000', MAX_PAGE_SIZE: '500', READ_CACHE_BYTES: '67108864' });
    expect(values('push', ['STORAGE_DEADLINE_MS', 'MEMBER_CACHE_SIZE'])).toEqual({ STORAGE_DEADLINE_MS: '5000', MEMBER_CACHE_SIZE: '2000000' });
    expect(values('router', ['MEMBERSHIP_CACHE_CONVERSATIONS', 'MEMBERSHIP_CACHE_MAX_AGE_MS'])).toEqual({ MEMBERSHIP_CACHE_CONVERSATIONS: '200000', MEMBERSHIP_CACHE_MAX_AGE_MS: '600000' });
    // Replaced by MEMBERSHIP_CACHE_CONVERSATIONS and MEMBERSHIP_CACHE_MAX_AGE_MS.
    for (const d of deployments) expect(envOf(d, 'MEMBERSHIP_CACHE_MS')).toBeUndefined();
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'parley-common')!;
    expect(Object.keys(config.data as Obj)).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'KAFKA_TOPIC_PREFIX', 'LOG_LEVEL', 'REDIS_KEY_PREFIX', 'MONGO_DB']));
    expect(get(config, 'data', 'KAFKA_CLIENT')).toBe('kafkajs');
    if (label !== 'default values') {
      expect(get(config, 'data', 'KAFKA_SASL_MECHANISM')).toBe('scram-sha-512');
      expect(get(config, 'data', 'KAFKA_SSL')).toBe('true');
      for (const n of ['router', 'storage', 'push']) expect(secretKey(byName(n), 'KAFKA_SASL_PASSWORD')).toBe('KAFKA_SASL_PASSWORD');
    }
  });

  it('never lets storage or push scale above the partition count', () => {
    const partitions = 12;
    for (const d of deployments.filter((x) => /storage|push/.test(x.metadata.name))) {
      if (d.spec?.replicas !== undefined) expect(d.spec.replicas).toBeLessThanOrEqual(partitions);
    }
    for (const hpa of kinds(objects, 'HorizontalPodAutoscaler')) {
      expect(get(hpa, 'spec', 'behavior', 'scaleDown', 'policies')).toBeDefined();
      if (/storage|push/.test(hpa.metadata.name)) expect(get(hpa, 'spec', 'maxReplicas')).toBeLessThanOrEqual(partitions);
    }
    for (const so of kinds(objects, 'ScaledObject')) expect(get(so, 'spec', 'maxReplicaCount')).toBeLessThanOrEqual(partitions);
  });

  if (label === 'default values') {
    it('creates no Secret and nothing optional, but NetworkPolicies, mutual TLS and CPU autoscalers by default', () => {
      const present = new Set(objects.map((o) => o.kind));
      for (const kind of ['Secret', 'Ingress', 'ServiceMonitor', 'PrometheusRule', 'ScaledObject', 'Job']) {
        expect(present.has(kind)).toBe(false);
      }
      expect(kinds(objects, 'NetworkPolicy')).toHaveLength(4);
      // The connector and the router scale on CPU (metrics-server); connections and lag stay opt-in (they need an adapter).
      const hpas = kinds(objects, 'HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.metadata.name).sort()).toEqual(['parley-connector', 'parley-router']);
      for (const h of hpas) expect((get(h, 'spec', 'metrics') as Obj[]).map((m) => get(m, 'resource', 'name'))).toEqual(['cpu']);
      for (const d of deployments) expect(d.spec?.replicas === undefined).toBe(/connector|router/.test(d.metadata.name));
    });

    it('gives each service a cert-manager certificate naming it, mounted where its GRPC_TLS_* variables point', () => {
      const certificates = kinds(objects, 'Certificate').filter((c) => !get(c, 'spec', 'isCA'));
      expect(certificates.map((c) => get(c, 'spec', 'uris', 0)).sort()).toEqual(SERVICES.map((s) => `spiffe://parley/service/${s}`).sort());
      for (const c of certificates) expect(get(c, 'spec', 'usages')).toEqual(expect.arrayContaining(['server auth', 'client auth']));
      expect(kinds(objects, 'Issuer').map((i) => i.metadata.name).sort()).toEqual(['parley-grpc-ca', 'parley-grpc-selfsigned']);
      for (const d of deployments) {
        const name = d.metadata.name;
        const certificate = certificates.find((c) => c.metadata.name === `${name}-grpc`);
        const volume = (podSpec(d).volumes as Obj[]).find((v) => v.name === 'grpc-tls');
        expect(get(volume, 'secret', 'secretName')).toBe(get(certificate, 'spec', 'secretName'));
        expect(envOf(d, 'GRPC_TLS_CERT_FILE')?.value).toBe('/etc/parley/grpc-tls/tls.crt');
        expect(envOf(d, 'GRPC_TLS_CA_FILE')?.value).toBe('/etc/parley/grpc-tls/ca.crt');
        expect(envOf(d, 'GRPC_INSECURE')).toBeUndefined();
      }
    });
  } else {
    it('renders every optional object', () => {
      const present = new Set(objects.map((o) => o.kind));
      for (const kind of ['Secret', 'Ingress', 'NetworkPolicy', 'ServiceMonitor', 'PrometheusRule', 'ScaledObject', 'TriggerAuthentication', 'HorizontalPodAutoscaler', 'Job']) {
        expect(present.has(kind)).toBe(true);
      }
      const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
      expect(JSON.parse(get(dashboard, 'data', 'parley.json') as string)).toHaveProperty('panels');
    });

    it('autoscales the connector on CPU and connections per pod, the router on CPU, storage and push on consumer lag', () => {
      const hpa = (n: string) => kinds(objects, 'HorizontalPodAutoscaler').find((h) => h.metadata.name === `parley-${n}`);
      const metrics = (h: K8sObject | undefined) => (get(h, 'spec', 'metrics') as Obj[]).map((m) => `${m.type as string}:${(get(m, 'resource', 'name') ?? get(m, 'pods', 'metric', 'name') ?? get(m, 'external', 'metric', 'name')) as string}`);
      expect(metrics(hpa('connector'))).toEqual(['Resource:cpu', 'Pods:parley_connector_connections']);
      expect(metrics(hpa('router'))).toEqual(['Resource:cpu']);
      const lagHpa = hpa('push') ?? hpa('storage');
      expect(metrics(lagHpa)).toEqual(['External:kafka_consumergroup_lag', 'External:kafka_consumergroup_lag']);
      const scaled = kinds(objects, 'ScaledObject')[0]!;
      const triggers = get(scaled, 'spec', 'triggers') as Obj[];
      expect(triggers.map((t) => t.type)).toEqual(['kafka', 'kafka']);
      // KEDA and an HPA never drive the same Deployment.
      expect(hpa(scaled.metadata.name.replace('parley-', ''))).toBeUndefined();
      // Autoscaled Deployments leave replicas to the autoscaler.
      for (const d of deployments) expect(d.spec?.replicas).toBeUndefined();
    });

    it('creates the six topics, membership and dlq included, with the partition count, in a hook Job', () => {
      const job = kinds(objects, 'Job')[0]!;
      expect(job.metadata.annotations?.['helm.sh/hook']).toContain('install');
      const env = (container(job).env ?? []).reduce<Record<string, string | undefined>>((acc, e) => ({ ...acc, [e.name]: e.value }), {});
      expect(env.TOPIC_PARTITIONS).toBe('12');
      expect(env.KAFKA_TOPIC_PREFIX).toBe('parley.');
      expect(env.SIGNALS_RETENTION_MS).toBe('60000');
      // The Job runs the storage image's dist/create-topics.js, which creates topicSpecs(...) from this env.
      expect(get(container(job), 'command')).toEqual(['node', 'dist/create-topics.js']);
      expect(get(podSpec(job), 'containers', 0, 'image')).toBe(get(podSpec(deployments.find((d) => d.metadata.name === 'parley-storage')!), 'containers', 0, 'image'));
      const specs = topicSpecs(env.KAFKA_TOPIC_PREFIX!, {
        partitions: Number(env.TOPIC_PARTITIONS),
        replicationFactor: Number(env.TOPIC_REPLICATION_FACTOR),
        retentionMs: Number(env.TOPIC_RETENTION_MS),
        signalsRetentionMs: Number(env.SIGNALS_RETENTION_MS),
      });
      const retention = Object.fromEntries(specs.map((t) => [t.topic, t.configs?.['retention.ms']]));
      expect(retention).toEqual({
        'parley.messages': '604800000',
        'parley.deliveries': '604800000',
        'parley.receipts': '604800000',
        'parley.signals': '60000',
        'parley.membership': '3600000',
        'parley.dlq': '2419200000',
      });
      for (const t of specs) expect(t.partitions).toBe(12);
    });
  }
});

describe('topics', () => {
  it('the chart\'s Job and the local set-up (deploy/local/infra.sh) create the same topics with the same short retentions', () => {
    const infra = readFileSync(path.join(ROOT, 'deploy/local/infra.sh'), 'utf8');
    const local = /^TOPICS=\(([^)]*)\)/m.exec(infra)?.[1]?.trim().split(/\s+/);
    expect(local).toEqual([...TOPIC_KEYS]);
    const localRetention = (suffix: string) => new RegExp(`\\[\\[ "\\$t" == \\*${suffix} \\]\\] && retention=(\\d+)`).exec(infra)?.[1];
    expect(MEMBERSHIP_RETENTION_MS).toBe(3_600_000);
    expect(DLQ_RETENTION_MS).toBe(28 * 86_400_000);
    expect(localRetention('membership')).toBe(String(MEMBERSHIP_RETENTION_MS));
    expect(localRetention('dlq')).toBe(String(DLQ_RETENTION_MS));
  });
});

describe('gRPC TLS modes', () => {
  it('an issuer of your own signs the service certificates; plaintext only as the explicit development mode', () => {
    const own = render({ set: ['grpcTls.certManager.issuerRef.kind=ClusterIssuer', 'grpcTls.certManager.issuerRef.name=corp-ca'] });
    expect(kinds(own, 'Issuer')).toEqual([]);
    for (const c of kinds(own, 'Certificate')) expect(get(c, 'spec', 'issuerRef')).toEqual({ kind: 'ClusterIssuer', name: 'corp-ca' });
    const plain = render({ set: ['grpcTls.mode=insecureDevelopment'] });
    expect(kinds(plain, 'Certificate')).toEqual([]);
    for (const d of kinds(plain, 'Deployment')) expect(envOf(d, 'GRPC_INSECURE')?.value).toBe('true');
    expect(() => render({ set: ['grpcTls.mode=plaintext'] })).toThrow(/grpcTls/);
  });
});

describe('client TLS modes', () => {
  const connector = (objects: K8sObject[]) => kinds(objects, 'Deployment').find((d) => d.metadata.name === 'parley-connector')!;
  const wsRule = (objects: K8sObject[]) => {
    const policy = kinds(objects, 'NetworkPolicy').find((p) => p.metadata.name === 'parley-connector')!;
    return (get(policy, 'spec', 'ingress') as Obj[]).find((r) => (r.ports as Obj[]).some((p) => p.port === 8080))!;
  };

  it('by default TLS ends at the ingress: a plaintext connector that only the ingress controller may reach', () => {
    const objects = render({});
    expect(envOf(connector(objects), 'WS_INSECURE')?.value).toBe('true');
    expect(envOf(connector(objects), 'WS_TLS_CERT_FILE')).toBeUndefined();
    expect(wsRule(objects).from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }]);
    expect(kinds(objects, 'Certificate').map((c) => c.metadata.name)).not.toContain('parley-connector-ws');
  });

  it('in the connector: a cert-manager certificate for the client host names, mounted where WS_TLS_* point, the port open to clients', () => {
    const objects = render({ set: ['wsTls.mode=connector', 'wsTls.certManager.issuerRef.kind=ClusterIssuer', 'wsTls.certManager.issuerRef.name=public-ca'] });
    const d = connector(objects);
    expect(envOf(d, 'WS_INSECURE')).toBeUndefined();
    expect(envOf(d, 'WS_TLS_CERT_FILE')?.value).toBe('/etc/parley/ws-tls/tls.crt');
    expect(envOf(d, 'WS_TLS_KEY_FILE')?.value).toBe('/etc/parley/ws-tls/tls.key');
    expect(envOf(d, 'WS_TLS_REFRESH_MS')?.value).toBe('60000');
    const mounts = (podSpec(d).containers as { volumeMounts: Obj[] }[])[0]!.volumeMounts;
    expect(mounts).toContainEqual({ name: 'ws-tls', mountPath: '/etc/parley/ws-tls', readOnly: true });
    expect(podSpec(d).volumes).toContainEqual({ name: 'ws-tls', secret: { secretName: 'parley-connector-ws-tls' } });
    const cert = kinds(objects, 'Certificate').find((c) => c.metadata.name === 'parley-connector-ws')!;
    expect(get(cert, 'spec', 'secretName')).toBe('parley-connector-ws-tls');
    expect(get(cert, 'spec', 'dnsNames')).toEqual(['chat.example.com']);
    expect(get(cert, 'spec', 'issuerRef')).toEqual({ kind: 'ClusterIssuer', name: 'public-ca' });
    expect(wsRule(objects).from).toBeUndefined();
    // A Secret of your own instead: no Certificate.
    const own = render({ set: ['wsTls.mode=connector', 'wsTls.secretName=chat-tls'] });
    expect(podSpec(connector(own)).volumes).toContainEqual({ name: 'ws-tls', secret: { secretName: 'chat-tls' } });
    expect(kinds(own, 'Certificate').map((c) => c.metadata.name)).not.toContain('parley-connector-ws');
  });

  it('refuses the connector mode with neither a Secret nor an issuer, and an unknown mode', () => {
    const missing = template({ set: ['wsTls.mode=connector'] });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/wsTls\.mode connector needs wsTls\.secretName .* or wsTls\.certManager\.issuerRef/);
    expect(template({ set: ['wsTls.mode=plaintext'] }).stderr).toMatch(/\/wsTls\/mode.*must be one of/);
  });
});

describe('network policies', () => {
  const policies = render({ set: ['networkPolicy.enabled=true'] }).filter((o) => o.kind === 'NetworkPolicy');
  const grpcCallers = (component: string): string[] => {
    const policy = policies.find((p) => p.metadata.name === `parley-${component}`)!;
    const grpcPort = { connector: 7000, router: 7001, storage: 7002, push: 7003 }[component];
    const rule = (get(policy, 'spec', 'ingress') as Obj[]).find((r) => (r.ports as Obj[]).some((p) => p.port === grpcPort));
    return ((rule?.from ?? []) as Obj[]).map((f) => get(f, 'podSelector', 'matchLabels', 'app.kubernetes.io/component') as string).sort();
  };

  it('let each service\'s gRPC callers in, and only them', () => {
    expect(grpcCallers('connector')).toEqual(['push']);
    expect(grpcCallers('router')).toEqual(['connector']);
    // push reads member lists from storage (STORAGE_ADDR).
    expect(grpcCallers('storage')).toEqual(['connector', 'push', 'router']);
    expect(grpcCallers('push')).toEqual([]);
  });
});

describe('another release name, namespace, registry and pull secret', () => {
  const result = helm([
    'template', 'chat', CHART, '--namespace', 'im', '--kube-version', KUBE_VERSION,
    '--set', 'image.registry=registry.example.com/team,image.tag=1.2.3,imagePullSecrets[0].name=pull,clusterDomain=corp.local',
  ]);
  const objects = parseObjects(result.stdout);

  it('names objects after the release and points the gRPC addresses at its namespace', () => {
    expect(result.status).toBe(0);
    const connector = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'chat-parley-connector')!;
    expect(connector).toBeDefined();
    expect(envOf(connector, 'ROUTER_ADDR')?.value).toBe('dns:///chat-parley-router-headless.im.svc.corp.local:7001');
    expect(container(connector).name).toBe('connector');
    expect(get(podSpec(connector), 'containers', 0, 'image')).toBe('registry.example.com/team/parley/connector:1.2.3');
    expect(podSpec(connector).imagePullSecrets).toEqual([{ name: 'pull' }]);
    expect(get(envOf(connector, 'JWT_SECRETS')?.valueFrom, 'secretKeyRef', 'name')).toBe('chat-parley-secrets');
    for (const o of objects) expect(o.metadata.namespace).toBe('im');
    expect(validateAgainstApi(objects)).toEqual([]);
  });
});

describe('private CAs of the infrastructure and a credentials Secret per service', () => {
  const objects = render({
    set: [
      'kafka.ssl=true', 'kafka.caSecret.name=kafka-ca', 'kafka.sasl.mechanism=scram-sha-512',
      'redis.caSecret.name=redis-ca', 'redis.caSecret.key=root.pem', 'mongodb.caSecret.name=mongo-ca',
      'storage.secretName=storage-creds', 'router.secretName=router-creds', 'topics.create=true',
      'storage.autoscaling.keda.enabled=true', 'storage.autoscaling.externalMetric.enabled=false',
    ],
  });
  const deployment = (name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `parley-${name}`)!;
  const job = objects.find((o) => o.kind === 'Job')!;
  // The CA file a variable names, followed to the Secret mounted at its directory: [secret, key].
  const caSource = (o: K8sObject, variable: string): [string, string] | undefined => {
    const file = container(o).env?.find((e) => e.name === variable)?.value;
    if (file === undefined) return undefined;
    const mounts = (get(podSpec(o), 'containers', 0, 'volumeMounts') as { name: string; mountPath: string }[]) ?? [];
    const mount = mounts.find((m) => `${m.mountPath}/ca.crt` === file);
    const volume = (podSpec(o).volumes as { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[]).find((v) => v.name === mount?.name);
    const item = volume?.secret?.items?.find((i) => i.path === 'ca.crt');
    return volume?.secret && item ? [volume.secret.secretName, item.key] : undefined;
  };
  const secretOf = (o: K8sObject, variable: string) => get(container(o).env?.find((e) => e.name === variable)?.valueFrom, 'secretKeyRef', 'name');

  it('mounts each CA only where its client runs, at the file its variable names', () => {
    const expected: Record<string, Record<string, [string, string] | undefined>> = {
      connector: { KAFKA_TLS_CA_FILE: undefined, REDIS_TLS_CA_FILE: ['redis-ca', 'root.pem'], MONGO_TLS_CA_FILE: undefined },
      router: { KAFKA_TLS_CA_FILE: ['kafka-ca', 'ca.crt'], REDIS_TLS_CA_FILE: ['redis-ca', 'root.pem'], MONGO_TLS_CA_FILE: undefined },
      storage: { KAFKA_TLS_CA_FILE: ['kafka-ca', 'ca.crt'], REDIS_TLS_CA_FILE: ['redis-ca', 'root.pem'], MONGO_TLS_CA_FILE: ['mongo-ca', 'ca.crt'] },
      push: { KAFKA_TLS_CA_FILE: ['kafka-ca', 'ca.crt'], REDIS_TLS_CA_FILE: ['redis-ca', 'root.pem'], MONGO_TLS_CA_FILE: undefined },
    };
    for (const [name, vars] of Object.entries(expected)) {
      for (const [variable, source] of Object.entries(vars)) expect([name, variable, caSource(deployment(name), variable)]).toEqual([name, variable, source]);
    }
    expect(caSource(job, 'KAFKA_TLS_CA_FILE')).toEqual(['kafka-ca', 'ca.crt']);
    expect(caSource(job, 'REDIS_TLS_CA_FILE')).toBeUndefined();
  });

  it('reads a service\'s credentials from its own Secret when it names one, the others from the shared one', () => {
    for (const key of ['MONGO_URL', 'REDIS_URL', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'BOOTSTRAP_ADMIN_KEY']) expect([key, secretOf(deployment('storage'), key)]).toEqual([key, 'storage-creds']);
    for (const key of ['REDIS_URL', 'REDIS_PASSWORD', 'KAFKA_SASL_PASSWORD']) expect([key, secretOf(deployment('router'), key)]).toEqual([key, 'router-creds']);
    expect(secretOf(deployment('connector'), 'JWT_SECRETS')).toBe('parley-secrets');
    expect(secretOf(deployment('push'), 'REDIS_URL')).toBe('parley-secrets');
    expect(secretOf(job, 'KAFKA_SASL_USERNAME')).toBe('parley-secrets');
  });

  it('lets the KEDA trigger of storage use storage\'s SASL user and trust the brokers\' CA', () => {
    const auth = objects.find((o) => o.kind === 'TriggerAuthentication' && o.metadata.name === 'parley-storage-kafka')!;
    expect(get(auth, 'spec', 'secretTargetRef')).toEqual([
      { parameter: 'username', name: 'storage-creds', key: 'KAFKA_SASL_USERNAME' },
      { parameter: 'password', name: 'storage-creds', key: 'KAFKA_SASL_PASSWORD' },
      { parameter: 'ca', name: 'kafka-ca', key: 'ca.crt' },
    ]);
  });

  it('renders objects the Kubernetes API accepts', () => {
    expect(validateAgainstApi(objects)).toEqual([]);
  });

  it.each<[string, string[], RegExp]>([
    ['a Kafka CA without TLS', ['kafka.caSecret.name=kafka-ca'], /kafka\.caSecret needs kafka\.ssl: true/],
    ['a Redis CA with a plaintext Redis URL', ['redis.caSecret.name=redis-ca', 'secrets.create=true', 'secrets.jwtSecrets=0123456789abcdef0123456789abcdef', 'secrets.redisUrl=redis://r:6379', 'secrets.mongoUrl=mongodb://m:27017'], /redis\.caSecret needs a rediss:\/\/ secrets\.redisUrl/],
    ['a Secret name Kubernetes refuses', ['storage.secretName=Storage_Creds'], /\/storage\/secretName.*does not match pattern/],
  ])('refuses %s', (_label, set, message) => {
    const rendered = template({ set });
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toMatch(message);
  });
});

describe('the strict decoder', () => {
  it('refuses a misspelt field and a wrong type, which the JSON schemas let through', () => {
    const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: 80, targetPort: ws, protocl: TCP}]\n';
    const deployment = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: "two", selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}\n';
    expect(validateAgainstApi(parseObjects(service))).toEqual([]);
    const decoded = strictDecode(`${service}---\n${deployment}`);
    expect(decoded.status).toBe(1);
    expect(decoded.errors.join('\n')).toMatch(/v1\/Service\/x: .*unknown field "spec\.ports\[0\]\.protocl"/);
    expect(decoded.errors.join('\n')).toMatch(/apps\/v1\/Deployment\/web: .*spec\.replicas of type int32/);
  });
});

describe('values the chart refuses', () => {
  // Schema violations: helm template and helm lint both refuse them.
  it.each<[string, string[], RegExp]>([
    ['negative replicas', ['storage.replicaCount=-1'], /\/storage\/replicaCount.*minimum/],
    ['a misspelt key', ['connector.replicas=3'], /additional properties 'replicas' not allowed/],
    ['an unknown SASL mechanism', ['kafka.sasl.mechanism=gssapi'], /\/kafka\/sasl\/mechanism.*must be one of/],
    ['a privileged port', ['connector.ports.ws=80'], /\/connector\/ports\/ws.*minimum/],
    ['zero partitions', ['kafka.partitions=0'], /\/kafka\/partitions.*minimum/],
    ['a malformed broker list', ['kafka.brokers=kafka'], /\/kafka\/brokers.*does not match pattern/],
    ['a PDB that blocks every drain', ['router.pdb.maxUnavailable=0'], /\/router\/pdb\/maxUnavailable/],
    ['a short JWT secret', ['secrets.create=true', 'secrets.jwtSecrets=short', 'secrets.redisUrl=redis://r:6379', 'secrets.mongoUrl=mongodb://m:27017'], /\/secrets\/jwtSecrets/],
    ['a created Secret without credentials', ['secrets.create=true'], /\/secrets\/(jwtSecrets|redisUrl|mongoUrl).*minLength/],
    ['a page larger than storage allows', ['storage.maxPageSize=1001'], /\/storage\/maxPageSize.*maximum/],
    ['a group limit storage refuses', ['storage.maxGroupMembers=1'], /\/storage\/maxGroupMembers.*minimum/],
    ['a negative read cache', ['storage.readCacheBytes=-1'], /\/storage\/readCacheBytes.*minimum/],
    ['a push member cache below the service\'s minimum', ['push.memberCacheSize=10'], /\/push\/memberCacheSize.*minimum/],
    ['a push storage deadline above a minute', ['push.storageDeadlineMs=120000'], /\/push\/storageDeadlineMs.*maximum/],
    ['a router membership cache of no conversations', ['router.membershipCache.conversations=0'], /\/router\/membershipCache\/conversations.*minimum/],
    ['an unknown Kafka client', ['kafka.client=rdkafka'], /\/kafka\/client.*must be one of/],
    ['a trusted proxy that is not an address range', ['connector.trustedProxies=ingress-nginx'], /\/connector\/trustedProxies.*does not match pattern/],
  ])('%s (values.schema.json)', (_label, set, message) => {
    const rendered = template({ set });
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toMatch(message);
    const linted = helm(['lint', CHART, '--kube-version', KUBE_VERSION, ...valueArgs({ set })]);
    expect(linted.status).not.toBe(0);
    expect(`${linted.stdout}${linted.stderr}`).toMatch(message);
  });

  // Relations between values, checked by the templates (parley.validate, `required`): helm
  // template and install refuse them; helm lint runs templates leniently and only logs them.
  it.each<[string, string[], RegExp]>([
    ['a SASL mechanism without credentials', ['secrets.create=true', 'secrets.jwtSecrets=0123456789abcdef0123456789abcdef', 'secrets.redisUrl=redis://r:6379', 'secrets.mongoUrl=mongodb://m:27017', 'kafka.sasl.mechanism=plain'], /secrets\.kafkaSaslUsername is required/],
    ['KEDA and the external-metric HPA both on', ['push.autoscaling.keda.enabled=true', 'push.autoscaling.externalMetric.enabled=true'], /push\.autoscaling: keda\.enabled and externalMetric\.enabled are mutually exclusive/],
    ['maxReplicas above the partition count', ['storage.autoscaling.maxReplicas=24'], /storage\.autoscaling\.maxReplicas \(24\) is above kafka\.partitions \(12\)/],
    ['maxReplicas above a smaller partition count', ['kafka.partitions=6'], /storage\.autoscaling\.maxReplicas \(12\) is above kafka\.partitions \(6\)/],
    ['replicas above the partition count', ['push.replicaCount=13'], /push\.replicaCount \(13\) is above kafka\.partitions \(12\)/],
    ['a drain window the shutdown limit cannot hold', ['connector.drain.windowMs=21000'], /connector\.drain\.shutdownTimeoutMs \(25000\) must be at least connector\.drain\.windowMs \(21000\) \+ 5000/],
  ])('%s (template check)', (_label, set, message) => {
    const rendered = template({ set });
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toMatch(message);
  });
});
