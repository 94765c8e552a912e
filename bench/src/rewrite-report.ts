// `node bench/run.js @rewrite-report <run>.json`: RESULTS.md section and chart from a saved run.
import { readFileSync } from 'node:fs';
import type { BenchResults } from './main';
import { writeReport } from './report';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/run.js @rewrite-report <run>.json');
writeReport(JSON.parse(readFileSync(file, 'utf8')) as BenchResults, file);
