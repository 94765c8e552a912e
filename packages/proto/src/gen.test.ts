// proto/ is the source of truth: the committed TypeScript types must be exactly
// what the generator makes from it today (run `pnpm gen` after editing a .proto).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

describe('generated proto types', () => {
  it('match proto/ exactly', () => {
    const packageDir = path.resolve(__dirname, '..');
    const script = (JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { scripts: { gen: string } }).scripts.gen;
    const out = mkdtempSync(path.join(tmpdir(), 'parley-gen-'));
    try {
      const args = script
        .split(/\s+/)
        .slice(1)
        .map((arg) => (arg.startsWith('--outDir=') ? `--outDir=${out}` : arg));
      const bin = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js', { paths: [packageDir] });
      execFileSync(process.execPath, [bin, ...args], { cwd: packageDir, stdio: 'pipe' });
      const committedDir = path.join(packageDir, 'src', 'gen');
      const fresh = listFiles(out).sort();
      expect(listFiles(committedDir).sort()).toEqual(fresh);
      for (const file of fresh) {
        expect(`${file}:\n${readFileSync(path.join(committedDir, file), 'utf8')}`).toBe(`${file}:\n${readFileSync(path.join(out, file), 'utf8')}`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
