// The services' Dockerfiles. No container engine runs here or in CI, so the images are never
// built by the tests: this checks each Dockerfile's structure (multi-stage, node:24 slim,
// non-root, only the deployed service in the runtime stage, the chart's ports) and runs the
// Dockerfile's own `pnpm deploy --prod` step to prove the runtime stage would hold a
// service that starts with production dependencies only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/helm';

const SERVICES = ['connector', 'router', 'storage', 'push'] as const;
const values = parse(readFileSync(path.join(ROOT, 'deploy/helm/parley/values.yaml'), 'utf8')) as Record<string, { ports: Record<string, number> }>;

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(file: string): Instruction[] {
  const joined = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** Instructions grouped per stage (FROM starts one); ARGs before the first FROM are global. */
function stages(list: Instruction[]): { from: string; name: string; body: Instruction[] }[] {
  const out: { from: string; name: string; body: Instruction[] }[] = [];
  for (const i of list) {
    if (i.op === 'FROM') {
      const [from, as, name] = i.args.split(/\s+/);
      out.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name! : '', body: [] });
    } else if (out.length > 0) out[out.length - 1]!.body.push(i);
  }
  return out;
}

describe.each(SERVICES)('services/%s/Dockerfile', (service) => {
  const file = path.join(ROOT, 'services', service, 'Dockerfile');
  const list = instructions(file);
  const all = stages(list);
  const runtime = all[all.length - 1]!;
  const globalArgs = Object.fromEntries(
    list
      .slice(0, list.findIndex((i) => i.op === 'FROM'))
      .filter((i) => i.op === 'ARG')
      .map((i) => i.args.split('=') as [string, string]),
  );
  const image = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_m, name: string) => globalArgs[name] ?? name);

  it('is multi-stage on a pinned node:24 slim image', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(image(stage.from)).toMatch(/^node:24(\.\d+)*(-\w+)*-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('builds with the frozen lockfile and deploys only production dependencies of this service', () => {
    const build = all[0]!.body.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(build).toContain('pnpm install --frozen-lockfile');
    expect(build).toMatch(new RegExp(`pnpm --filter @parley/${service} deploy --prod [^\\n]*/out`));
  });

  it('runs as a non-root user, from files it cannot change, with only the deployed service and proto/', () => {
    const users = runtime.body.filter((i) => i.op === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':');
    expect(Number(uid)).toBeGreaterThanOrEqual(1000);
    expect(Number(gid)).toBeGreaterThanOrEqual(1000);
    // No later instruction switches back, and the chart's runAsUser is the same UID.
    expect(runtime.body[runtime.body.length - 1]!.op).not.toBe('USER');
    expect(readFileSync(path.join(ROOT, 'deploy/helm/parley/values.yaml'), 'utf8')).toContain(`runAsUser: ${uid}`);
    const copies = runtime.body.filter((i) => i.op === 'COPY' || i.op === 'ADD').map((i) => i.args);
    expect(copies).toEqual(['--from=build /out /app', '--from=build /src/proto /app/proto']);
    expect(runtime.body.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ')).not.toMatch(/npm|pnpm|apt-get/);
    expect(runtime.body.find((i) => i.op === 'ENV')?.args).toContain('PARLEY_PROTO_DIR=/app/proto');
    // The Node flags the service declares (package.json "parleyNodeFlags"), as every launcher runs it.
    const flags = (JSON.parse(readFileSync(path.join(ROOT, 'services', service, 'package.json'), 'utf8')) as { parleyNodeFlags?: string[] }).parleyNodeFlags ?? [];
    expect(runtime.body.find((i) => i.op === 'CMD')?.args).toBe(JSON.stringify(['node', ...flags, 'dist/main.js']).replace(/","/g, '", "'));
  });

  it('exposes the ports the chart gives it', () => {
    const exposed = runtime.body.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number).sort();
    expect(exposed).toEqual(Object.values(values[service]!.ports).sort());
  });

  it('its deploy step yields a service that starts on production dependencies alone', () => {
    const out = mkdtempSync(path.join(tmpdir(), `parley-image-${service}-`));
    try {
      // --prefer-offline: the registry metadata pnpm deploy resolves with comes from the
      // project's own cache (.local/cache/pnpm-cache, set by deploy/local/toolchain.sh) and is
      // fetched into it on a machine that never resolved online before.
      const deploy = spawnSync('pnpm', ['--filter', `@parley/${service}`, 'deploy', '--prod', '--legacy', '--prefer-offline', path.join(out, 'app')], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(deploy.stderr).not.toMatch(/ERR_PNPM/);
      expect(deploy.status).toBe(0);
      const app = path.join(out, 'app');
      const installed = readdirSync(path.join(app, 'node_modules/.pnpm'));
      for (const devOnly of ['typescript@', 'jest@', 'eslint@', '@swc+core@', 'fast-check@', 'kubernetes-models@']) {
        expect(installed.filter((p) => p.startsWith(devOnly))).toEqual([]);
      }
      // Started with no configuration it must get as far as the config check (exit 78):
      // every module it imports resolved from the deployed tree.
      const entries = ['dist/main.js', ...(service === 'storage' ? ['dist/create-topics.js'] : [])];
      for (const entry of entries) {
        expect(existsSync(path.join(app, entry))).toBe(true);
        const run = spawnSync(process.execPath, [entry], { cwd: app, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env['PATH'] ?? '', PARLEY_PROTO_DIR: path.join(ROOT, 'proto') } });
        expect(run.stderr).toContain('invalid configuration');
        expect(run.status).toBe(78);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, builds, caches and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', '.local', '**/node_modules', '**/dist']) expect(ignored).toContain(entry);
  });
});
