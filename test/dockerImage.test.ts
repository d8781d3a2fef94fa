import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The image is not built here (this machine reaches no container registry for the base image):
// these checks read the Dockerfile and every file it copies, which is what decides who the image
// runs as and what it holds.
const ROOT = path.resolve(import.meta.dirname, '..');
const lines = fs
  .readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const instructions = lines.map((l) => {
  const [word, ...rest] = l.split(/\s+/);
  return { word: word!.toUpperCase(), args: rest.join(' ') };
});

function filesUnder(rel: string): string[] {
  const full = path.join(ROOT, rel);
  if (!fs.statSync(full).isDirectory()) return [rel];
  return fs.readdirSync(full, { recursive: true, encoding: 'utf8' }).map((f) => path.join(rel, f)).filter((f) => fs.statSync(path.join(ROOT, f)).isFile());
}

describe('Docker image', () => {
  it('runs as an unprivileged user it creates, never as root', () => {
    const users = instructions.filter((i) => i.word === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1]!.split(':')[0]!;
    expect(['root', '0']).not.toContain(last);
    expect(instructions.some((i) => i.word === 'RUN' && new RegExp(`useradd\\b.*\\b${last}$`).test(i.args))).toBe(true);
    // Nothing runs after the switch that could need root again.
    const lastUser = instructions.map((i) => i.word).lastIndexOf('USER');
    const after = instructions.slice(lastUser + 1);
    expect(after.filter((i) => i.word === 'RUN' || i.word === 'USER')).toEqual([]);
  });

  it('holds no secret: no secret in its variables, no key or secret file among what it copies', () => {
    const variables = instructions.filter((i) => i.word === 'ENV' || i.word === 'ARG').flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=/gi)].map((m) => m[1]!));
    expect(variables.filter((v) => /PASS|SECRET|TOKEN|KEY|P12|CERT/i.test(v))).toEqual([]);
    const copied = instructions
      .filter((i) => i.word === 'COPY' || i.word === 'ADD')
      .flatMap((i) => {
        const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        return parts.slice(0, -1);
      });
    expect(copied).not.toContain('.');
    const files = copied.flatMap(filesUnder);
    expect(files.length).toBeGreaterThan(50);
    const secretNamed = files.filter((f) => /(^|\/)(\.env[^/]*|id_(rsa|ed25519|ecdsa)[^/]*|[^/]*\.(pem|key|p12|pfx))$/i.test(f));
    expect(secretNamed).toEqual([]);
    const holdingKeys = files.filter((f) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(fs.readFileSync(path.join(ROOT, f), 'latin1')));
    expect(holdingKeys).toEqual([]);
  });

  it('keeps local state, keys and test material out of the build context', () => {
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', '.maillon', 'node_modules', 'fixtures', 'test', '*.pem', '*.key', '*.p12', '.env*']) expect(ignored).toContain(entry);
  });
});
