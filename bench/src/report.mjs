// Turns the measurements into the acceptance checks of issue 6 and the Markdown written into
// bench/README.md between the results markers.
import { readFileSync, writeFileSync } from 'node:fs';

export const START = '<!-- bench:results:start -->';
export const END = '<!-- bench:results:end -->';
const SUMMARY_START = '<!-- bench:summary:start -->';
const SUMMARY_END = '<!-- bench:summary:end -->';

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const mib = (bytes) => fmt(bytes / 2 ** 20, 1);
const pct = (r) => (Number.isFinite(r) ? `${fmt(r * 100)} %` : '—');
const pct1 = (r) => (Number.isFinite(r) ? `${fmt(r * 100, 1)} %` : '—');

/** The acceptance checks: [{ name, status: 'PASS'|'FAIL'|'SKIPPED', detail }]. */
export function checks({ results, paired = {}, skipped, flood, introspection, floor, peers, settings }) {
  const out = [];
  const plain = results.plain ?? {};
  const ours = results.portcullis;
  const add = (name, pass, detail) => out.push({ name, status: pass === null ? 'SKIPPED' : pass ? 'PASS' : 'FAIL', detail });
  const notRun = (name) => add(name, null, skipped.portcullis ? `bearer-auth variant skipped: ${skipped.portcullis}` : 'bearer-auth variant not run');
  const clean = (cell) => cell && cell.unexpected === 0;

  for (const [id, label] of [
    ['same-es256', 'Same valid token, ES256: ≥ 90 % of plain req/s'],
    ['same-rs256', 'Same valid token, RS256: ≥ 90 % of plain req/s'],
    ['no-token', 'No token: ≥ 90 % of plain req/s'],
    ['malformed', 'Malformed token: ≥ 90 % of plain req/s'],
  ]) {
    if (!ours?.[id]) {
      notRun(label);
      continue;
    }
    // Judged on the paired measurement when there is one (drift cancels out); the cells measured one
    // after the other are shown beside it.
    const sequential = ours[id].rps / plain[id].rps;
    const pair = paired.portcullis?.[id];
    const usable = pair && pair.busy >= 0.9 && pair.unexpected === 0;
    const ratio = usable ? pair.ratio : sequential;
    const detail = [
      pair ? `loaded together: ${pct1(pair.ratio)} (rounds ${pair.ratios.map(pct1).join(', ')}; CPU busy ${pct(pair.busy)}${usable ? '' : ', not usable: the CPU was not saturated or answers were wrong'})` : null,
      `one after the other: ${fmt(ours[id].rps)} vs ${fmt(plain[id].rps)} req/s = ${pct(sequential)}`,
    ].filter(Boolean).join('; ');
    add(label, ratio >= 0.9 && clean(ours[id]), `${detail}${clean(ours[id]) ? '' : `; ${ours[id].unexpected} wrong responses`}`);
  }

  // The miss path: never-seen tokens, each one verified (the cycled pool may be served from the cache).
  const cpuLabel = 'Distinct valid ES256 tokens (never seen, cache misses): CPU/req ≤ plain + crypto floor + 15 µs';
  const rpsLabel = 'Distinct valid ES256 tokens (never seen, cache misses): ≥ 1.3 × the best peer’s req/s';
  const miss = ours?.['fresh-es256'];
  if (!miss) {
    notRun(cpuLabel);
    notRun(rpsLabel);
  } else {
    const missPlain = plain['fresh-es256'] ?? plain['distinct-es256'];
    const base = missPlain.cpuPerReq;
    const limit = base + floor.ES256 + 15;
    const wrapped = miss.note ? ` (${miss.note}: some requests were cache hits)` : '';
    add(cpuLabel, miss.cpuPerReq <= limit && clean(miss) && !miss.note, `${fmt(miss.cpuPerReq, 1)} µs vs ${fmt(base, 1)} + ${fmt(floor.ES256, 1)} + 15 = ${fmt(limit, 1)} µs${wrapped}`);
    const ranPeers = peers.filter((p) => results[p]?.['distinct-es256']);
    if (!ranPeers.length) add(rpsLabel, null, 'no peer ran');
    else {
      const best = ranPeers.reduce((a, b) => (results[a]['distinct-es256'].rps >= results[b]['distinct-es256'].rps ? a : b));
      const bestRps = results[best]['distinct-es256'].rps;
      // The peers have no cache: their cycled tokens are misses as well, measured in the same rounds.
      add(rpsLabel, miss.rps >= 1.3 * bestRps && !miss.note, `${fmt(miss.rps)} req/s vs ${best} ${fmt(bestRps)} req/s (its ${fmt(settings.distinct)} cycled tokens, all misses: it has no cache; same rounds) = ${fmt(miss.rps / bestRps, 2)}×${wrapped}`);
    }
  }
  // The references: what one more Express layer costs, and what the signature alone costs under load.
  for (const id of ['same-es256', 'same-rs256']) {
    const empty = results['empty-middleware']?.[id];
    if (empty && plain[id]) {
      const pair = paired['empty-middleware']?.[id];
      out.push({
        name: `For reference: an empty middleware (sets req.auth, calls next), ${id === 'same-es256' ? 'same ES256 token' : 'same RS256 token'}`,
        status: 'INFO',
        detail: `${pair ? `loaded together: ${pct1(pair.ratio)} of plain; ` : ''}one after the other: ${pct(empty.rps / plain[id].rps)}: the part of the 10 % that one more Express layer takes before any authentication`,
      });
    }
  }
  const signatureOnly = results['signature-only']?.['fresh-es256'];
  if (signatureOnly && plain['fresh-es256']) {
    const base = plain['fresh-es256'].cpuPerReq;
    out.push({
      name: 'For reference: a middleware that checks only the ES256 signature (one synchronous node:crypto verify as each request arrives), never-seen tokens',
      status: 'INFO',
      detail: `${fmt(signatureOnly.cpuPerReq, 1)} µs/req, ${fmt(signatureOnly.cpuPerReq - base, 1)} µs over plain against a crypto floor of ${fmt(floor.ES256, 1)} µs measured on a quiet CPU; the budget is ${fmt(base + floor.ES256 + 15, 1)} µs (bearer-auth runs the checks of one turn together: see "Checks of one turn together")`,
    });
  }
  const cycled = ours?.['distinct-es256'];
  if (cycled) {
    const ranPeers = peers.filter((p) => results[p]?.['distinct-es256']);
    const bestRps = Math.max(...ranPeers.map((p) => results[p]['distinct-es256'].rps));
    out.push({
      name: `For information: ${fmt(settings.distinct)} distinct valid ES256 tokens, cycled`,
      status: 'INFO',
      detail: `${fmt(cycled.rps)} req/s${ranPeers.length ? ` (${fmt(cycled.rps / bestRps, 2)}× the best peer)` : ''}, ${fmt(cycled.cpuPerReq, 1)} µs/req; a cache of ≥ ${fmt(settings.distinct)} entries serves every pass once it holds the pool (bearer-auth: after two)`,
    });
  }

  const rssLabel = `Flood of ${fmt(settings.flood)} distinct invalid tokens: RSS growth ≤ ${fmt(settings.rssBound / 2 ** 20)} MiB`;
  const cacheLabel = 'Flood: the valid-token cache still serves its tokens afterwards';
  if (!flood) {
    notRun(rssLabel);
    notRun(cacheLabel);
  } else {
    const growth = flood.rssAfter - flood.rssBefore;
    add(rssLabel, growth <= settings.rssBound && clean(flood.flooded), `${mib(flood.rssBefore)} → ${mib(flood.rssAfter)} MiB (${growth >= 0 ? '+' : ''}${mib(growth)} MiB, peak ${mib(flood.hwmAfter)} MiB)${clean(flood.flooded) ? '' : `; ${flood.flooded.unexpected} responses not 401`}`);
    // Asked of the server: every probe token in its cache before the flood, and every one still there after.
    const intact = flood.cachedBefore === settings.probe && flood.cachedAfter === settings.probe;
    add(
      cacheLabel,
      intact && clean(flood.before) && clean(flood.after),
      `${fmt(settings.probe)} valid tokens: ${flood.cachedBefore === null ? 'the server cannot tell' : `${fmt(flood.cachedBefore)} in the cache before, ${fmt(flood.cachedAfter)} after`}; ` +
        `${fmt(flood.before.cpuPerReq, 1)} µs/req before, ${fmt(flood.after.cpuPerReq, 1)} µs/req after`,
    );
  }

  const first = introspection['portcullis-introspection'];
  const firstLabel = 'Introspection: 100 concurrent first uses of one token → 1 AS call';
  const againLabel = 'Introspection: repeated use within the cache lifetime → 0 further AS calls';
  if (!first) {
    const why = skipped['portcullis-introspection'] ? `introspection variant skipped: ${skipped['portcullis-introspection']}` : 'introspection variant not run';
    add(firstLabel, null, why);
    add(againLabel, null, why);
  } else {
    add(firstLabel, first.firstUse === 1 && first.firstUseOk === 100, `${first.firstUse} AS call(s), ${first.firstUseOk}/100 answered 200`);
    add(againLabel, first.further === 0 && clean(first.repeated), `${first.further} further call(s) over ${fmt(first.repeated.requests)} requests`);
  }
  return out;
}

export function renderReport(input) {
  const { results, skipped, flood, introspection, floor, scenarios, machine, settings, elapsed, references = [] } = input;
  const list = checks(input);
  const checksText = ['Acceptance checks (issue 6):', ...list.map((c) => `  [${c.status}] ${c.name} — ${c.detail}`)].join('\n');

  const md = [];
  md.push(`Run of ${machine.date}${settings.quick ? ' — **quick run (short cells): provisional figures**' : ''}, ${fmt(elapsed)} s in all.`);
  md.push('');
  md.push(`- Machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memory}; ${machine.kernel}; Node ${machine.node}; load average at the end ${machine.load}.`);
  md.push(`- Settings: autocannon, ${settings.connections} connections, ${settings.duration} s measured per cell in ${settings.rounds ?? 1} interleaved round(s) of ${fmt(settings.duration / (settings.rounds ?? 1))} s (cell order rotated each round; each figure is the median of the rounds), ${settings.warmup} s warm-up before a cell's first round; pinned: ${machine.pinned}.`);
  md.push(
    `- Crypto floor (one synchronous \`node:crypto\` verification): ES256 ${fmt(floor.ES256, 1)} µs, RS256 ${fmt(floor.RS256, 1)} µs; \`jose.jwtVerify\` for comparison: ES256 ${fmt(floor.joseES256, 1)} µs, RS256 ${fmt(floor.joseRS256, 1)} µs.`,
  );
  const skippedList = Object.entries(skipped);
  if (skippedList.length) md.push(`- Skipped: ${skippedList.map(([v, why]) => `\`${v}\` (${why})`).join('; ')}.`);
  md.push('');
  md.push('| Scenario | Variant | req/s | × plain | p99 ms | CPU µs/req | CPU over plain | RSS MiB |');
  md.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of scenarios) {
    const plain = results.plain?.[s.id];
    for (const [variant, cells] of Object.entries(results)) {
      const c = cells[s.id];
      // A scenario measured in another's rounds shares that plain cell: shown once, there.
      if (!c || (variant === 'plain' && s.measuredWith)) continue;
      const over = variant === 'plain' ? '' : fmt(c.cpuPerReq - plain.cpuPerReq, 1);
      const warn = (c.unexpected ? ` ⚠ ${fmt(c.unexpected)} not ${c.expected}` : '') + (c.note ? ` ⚠ ${c.note}` : '');
      md.push(`| ${s.label} | ${references.includes(variant) ? `*${variant}* (reference)` : variant}${warn} | ${fmt(c.rps)} | ${variant === 'plain' ? '1.00' : fmt(c.rps / plain.rps, 2)} | ${fmt(c.p99, 1)} | ${fmt(c.cpuPerReq, 1)} | ${over} | ${fmt(c.rss / 2 ** 20, 1)} |`);
    }
  }
  const pairedRows = Object.entries(input.paired ?? {}).flatMap(([variant, cells]) => Object.entries(cells).map(([id, p]) => ({ variant, id, p })));
  if (pairedRows.length) {
    md.push('');
    md.push(`Loaded together: the variant and plain at the same time on the one server CPU, each with its own autocannon (${settings.connections} connections), 1 s of warm-up then ${settings.pairedRounds} rounds of 1 s; the ratio checks are judged on these when the CPU was saturated (busy ≥ 90 %).`);
    md.push('');
    md.push('| Scenario | Variant | req/s ÷ plain, median | rounds | CPU busy |');
    md.push('| --- | --- | ---: | --- | ---: |');
    for (const { variant, id, p } of pairedRows) {
      const label = scenarios.find((sc) => sc.id === id)?.label ?? id;
      md.push(`| ${label} | ${references.includes(variant) ? `*${variant}* (reference)` : variant}${p.unexpected ? ` ⚠ ${fmt(p.unexpected)} unexpected` : ''} | ${pct1(p.ratio)} | ${p.ratios.map(pct1).join(', ')} | ${pct(p.busy)} |`);
    }
  }
  if (flood) {
    md.push('');
    md.push(`Flood (bearer-auth): ${fmt(settings.probe)} valid tokens cached, then ${fmt(settings.flood)} distinct invalid tokens (valid header and claims, fresh \`jti\`, wrong signature), then the ${fmt(settings.probe)} valid tokens again.`);
    md.push('');
    const inCache = (n) => (n === null || n === undefined ? '' : `${fmt(n)} / ${fmt(settings.probe)}`);
    md.push('| Phase | req/s | p99 ms | CPU µs/req | RSS MiB | valid tokens in the cache |');
    md.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    md.push(`| cached valid tokens, before | ${fmt(flood.before.rps)} | ${fmt(flood.before.p99, 1)} | ${fmt(flood.before.cpuPerReq, 1)} | ${mib(flood.before.rss)} | ${inCache(flood.cachedBefore)} |`);
    md.push(`| flood of invalid tokens | ${fmt(flood.flooded.rps)} | ${fmt(flood.flooded.p99, 1)} | ${fmt(flood.flooded.cpuPerReq, 1)} | ${mib(flood.flooded.rss)} (peak ${mib(flood.flooded.hwm)}) | ${inCache(flood.cachedAfter)} |`);
    md.push(`| cached valid tokens, after | ${fmt(flood.after.rps)} | ${fmt(flood.after.p99, 1)} | ${fmt(flood.after.cpuPerReq, 1)} | ${mib(flood.after.rss)} | |`);
  }
  if (Object.keys(introspection).length) {
    md.push('');
    md.push('Introspection (the AS stub answers after 20 ms): 100 concurrent first uses of one opaque token, then the same token for the measured duration.');
    md.push('');
    md.push('| Variant | AS calls, 100 concurrent first uses | further AS calls, repeated use | req/s, repeated | p99 ms | CPU µs/req |');
    md.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [v, r] of Object.entries(introspection)) {
      md.push(`| ${v} | ${r.firstUse} | ${fmt(r.further)} | ${fmt(r.repeated.rps)} | ${fmt(r.repeated.p99, 1)} | ${fmt(r.repeated.cpuPerReq, 1)} |`);
    }
  }
  md.push('');
  md.push('Acceptance checks (issue 6):');
  md.push('');
  for (const c of list) md.push(`- **${c.status}** ${c.name}: ${c.detail}`);
  return { markdown: md.join('\n'), checksText, summary: renderSummary(input, list) };
}

const SUMMARY_COLUMNS = [
  ['plain', 'plain Express'],
  ['portcullis', '**@portcullis/bearer-auth**'],
  ['express-oauth2-jwt-bearer', 'express-oauth2-jwt-bearer'],
  ['mcp-sdk', 'MCP SDK `requireBearerAuth` + jose'],
  ['mcp-auth', 'mcp-auth'],
];

/** The short form for the root README: req/s (ratio to plain) per scenario, and the checks' verdicts. */
function renderSummary({ results, paired = {}, scenarios, machine, settings }, list) {
  const md = [];
  md.push(
    `Run of ${machine.date.slice(0, 10)} on a ${machine.cpus}-core ${machine.cpu}, Node ${machine.node.replace(/^v/, '')}, ${settings.connections} connections, servers pinned to one core; each figure is the median of ${settings.rounds} interleaved rounds (requests per second, and the ratio to a plain Express route measured in the same rounds; in brackets for bearer-auth, the ratio with both loaded at once, see bench/README.md):`,
  );
  md.push('');
  md.push(`| scenario | ${SUMMARY_COLUMNS.map(([, title]) => title).join(' | ')} |`);
  md.push(`| --- | ${SUMMARY_COLUMNS.map(() => '---:').join(' | ')} |`);
  for (const sc of scenarios) {
    const plain = results.plain?.[sc.id];
    if (!plain) continue;
    const cells = SUMMARY_COLUMNS.map(([variant]) => {
      const c = results[variant]?.[sc.id];
      if (!c) return '—';
      if (variant === 'plain') return fmt(c.rps);
      const pair = variant === 'portcullis' ? paired.portcullis?.[sc.id] : undefined;
      const text = `${fmt(c.rps)} (${fmt(c.rps / plain.rps, 2)}${pair ? `; together ${fmt(pair.ratio, 2)}` : ''})`;
      return variant === 'portcullis' ? `**${text}**` : text;
    });
    md.push(`| ${sc.label} | ${cells.join(' | ')} |`);
  }
  md.push('');
  md.push('Acceptance checks of issue 6 in this run:');
  md.push('');
  for (const c of list.filter((check) => check.status !== 'INFO')) md.push(`- ${c.status}: ${c.name}`);
  return md.join('\n');
}

/** Replaces the part of `path` between the summary markers, when it has them (the root README). */
export function writeSummary(path, markdown) {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(SUMMARY_START);
  const end = text.indexOf(SUMMARY_END);
  if (start === -1 || end < start) return false;
  writeFileSync(path, `${text.slice(0, start)}${SUMMARY_START}\n${markdown}\n${SUMMARY_END}${text.slice(end + SUMMARY_END.length)}`);
  return true;
}

/** Replaces the part of `path` between the results markers (appends the markers if missing). */
export function writeReadme(path, markdown) {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Portcullis benchmarks\n';
  }
  const block = `${START}\n${markdown}\n${END}`;
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  text = start !== -1 && end > start ? text.slice(0, start) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n## Results\n\n${block}\n`;
  writeFileSync(path, text);
}
