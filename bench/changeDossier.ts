/**
 * The dossier an operator imports next: 1 % of the affiliates of a generated folder changed, in
 * three equal parts (drawn by affiliate id, so the same ones on every size): amounts changed
 * (their contributions and payments 1 euro more), affiliates vanished (every row of theirs
 * dropped), affiliates new (every row of theirs copied under new ids and a new valid INSS).
 * Streams each file: memory does not depend on the size of the folder.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { inssCheckDigits } from '../src/domain/inss.js';
import { CONTRACT } from '../src/import/contract.js';

/** Share of the affiliates in each part: vanished, changed, new (1 % in all). */
const PART = 1 / 300;
/** Columns renamed in a copy: the keys of the files and the references to them. */
const IDS = new Set(['affiliate_id', 'contribution_id', 'payment_id', 'allowance_id', 'request_id']);
const AMOUNTS = new Set(['contributions', 'payments']);

type Fate = 'kept' | 'vanished' | 'changed' | 'new';

/** What happens to an affiliate (FNV-1a of its id). */
export function fateOf(affiliateId: string): Fate {
  let h = 0x811c9dc5;
  for (let i = 0; i < affiliateId.length; i++) h = Math.imul(h ^ affiliateId.charCodeAt(i), 0x01000193);
  const draw = (h >>> 0) / 2 ** 32;
  return draw < PART ? 'vanished' : draw < 2 * PART ? 'changed' : draw < 3 * PART ? 'new' : 'kept';
}

/** Writes the changed folder `to` from the generated folder `from`; returns the affiliates in each part. */
export async function changeDossier(from: string, to: string): Promise<Record<Exclude<Fate, 'kept'>, number>> {
  await fs.mkdir(to, { recursive: true, mode: 0o700 });
  const parts = { vanished: 0, changed: 0, new: 0 };
  for (const spec of CONTRACT) {
    const source = path.join(from, spec.file);
    if (!(await fs.stat(source).catch(() => null))) continue;
    const columns = spec.columns.map((c) => c.name);
    const affiliate = columns.indexOf('affiliate_id');
    const amount = AMOUNTS.has(spec.table) ? columns.indexOf('amount_cents') : -1;
    const change = new Transform({
      objectMode: true,
      transform(row: string[], _enc, done) {
        const fate = affiliate < 0 ? 'kept' : fateOf(row[affiliate]!);
        if (spec.table === 'affiliates' && fate !== 'kept') parts[fate]++;
        if (fate === 'vanished') return done();
        if (fate === 'changed' && amount >= 0) row[amount] = String(Number(row[amount]) + 100);
        this.push(row);
        if (fate === 'new') this.push(copyOf(row, columns, spec.table));
        done();
      },
    });
    await pipeline(
      createReadStream(source),
      parse({ from_line: 2 }),
      change,
      stringify({ header: true, columns, quoted_match: /^\s|\s$/ }),
      createWriteStream(path.join(to, spec.file), { mode: 0o600 }),
    );
  }
  return parts;
}

/** A new affiliate's row: the ids prefixed with N, the INSS given another serial number of the same parity. */
function copyOf(row: string[], columns: string[], table: string): string[] {
  const copy = row.map((value, i) => (IDS.has(columns[i]!) && value !== '' ? `N${value}` : value));
  if (table === 'affiliates') {
    const at = columns.indexOf('inss');
    const inss = row[at]!;
    const serial = Number(inss.slice(6, 9));
    const body = `${inss.slice(0, 6)}${String(serial <= 498 ? serial + 500 : serial - 498).padStart(3, '0')}`;
    const bornFrom2000 = Number(row[columns.indexOf('birth_date')]!.slice(0, 4)) >= 2000;
    copy[at] = `${body}${inssCheckDigits(body, bornFrom2000)}`;
  }
  return copy;
}
