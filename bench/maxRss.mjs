// Preloaded into a benchmarked process: writes its peak resident set size (KiB) to the file
// named by MAILLON_BENCH_RSS_FILE when the process exits.
import { writeFileSync } from 'node:fs';

const file = process.env.MAILLON_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
