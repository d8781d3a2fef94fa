import type { Command } from 'commander';
import { importFolder, recordImport } from '../../import/importFolder.js';
import type { CliContext } from '../context.js';
import { startProgress } from '../progress.js';

/** `maillon import <folder>`: loads a dossier CSV folder, all or nothing. */
export function registerImport(program: Command, ctx: () => CliContext): void {
  program
    .command('import')
    .argument('<folder>', 'folder of CSV files following the dossier CSV contract')
    .description('replace the dossier data by the content of a CSV folder (all or nothing)')
    .action(async (folder: string) => {
      const c = ctx();
      const dbs = await c.databases();
      const started = c.clock.now();
      const progress = startProgress(c.interactive, 'import', undefined, 'MB read');
      const result = await importFolder(
        dbs.dossier,
        folder,
        (b) => process.stderr.write(`${b.file}:${b.line}: ${b.column}: ${b.reason}\n`),
        (p) => p.bytes !== undefined && progress.update(Math.round(p.bytes / 1e6)),
      ).finally(() => progress.stop());
      await recordImport(dbs.ledger, c.clock, started, result);
      if (result.bulkRefused !== null) c.logger.warn({ folder, reason: result.bulkRefused }, 'bulk import path refused the folder; it was checked row by row');
      c.logger.info({ folder, rows: result.rows, method: result.method }, 'import committed');
      for (const f of result.files) console.log(`${f.file.padEnd(28)} ${String(f.rows).padStart(10)} rows  sha256 ${f.sha256}`);
      console.log(`imported ${result.rows} rows from ${folder} (dossier data replaced; ${result.method === 'bulk' ? 'bulk path' : 'checked row by row'})`);
    });
}
