#!/usr/bin/env node
// `npm run example:client -- <mcp-url> [tool] [json-arguments]`: see cli.ts.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
