// Preloaded into benchmarked processes: records peak RSS (KiB) at exit for the parent.
const fs = require('fs');
const target = process.env.BENCH_RSS_FILE;
if (target) process.on('exit', () => fs.writeFileSync(target, String(process.resourceUsage().maxRSS)));
