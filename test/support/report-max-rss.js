'use strict';
// Preloaded into a child process (node -r) by tests that bound its memory: at exit, its peak
// resident set size (the kernel's own high-water mark, in KiB) is the last line on stderr.
process.on('exit', () => process.stderr.write(`max-rss-kib ${process.resourceUsage().maxRSS}\n`));
