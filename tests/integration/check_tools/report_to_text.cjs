// Checks that a `mcpd check-tools --format json|sarif` report is well formed, then prints it in
// the text format (`file:line:col: severity: message [rule]` lines and the summary line) so
// the integration tests can apply the same expectations to every format.
//
// usage: node report_to_text.cjs json|sarif REPORT_FILE
'use strict';
const fs = require('fs');

function fail(message) {
  process.stderr.write(`report_to_text: ${message}\n`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

const isInt = (v) => Number.isInteger(v) && v >= 1;

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function line(file, lineNo, column, severity, message, rule) {
  let where = '';
  if (file) {
    where = file;
    if (lineNo) {
      where += `:${lineNo}`;
      if (column) where += `:${column}`;
    }
    where += ': ';
  }
  return `${where}${severity}: ${message}${rule ? ` [${rule}]` : ''}`;
}

function fromJson(report) {
  check(report && typeof report === 'object' && !Array.isArray(report), 'not an object');
  check(Array.isArray(report.files), 'files is not an array');
  check(Array.isArray(report.diagnostics), 'diagnostics is not an array');
  const out = [];
  let errors = 0;
  let warnings = 0;
  for (const d of report.diagnostics) {
    for (const key of ['file', 'line', 'column', 'severity', 'rule', 'message'])
      check(key in d, `diagnostic without ${key}: ${JSON.stringify(d)}`);
    check(d.line === null || isInt(d.line), `bad line ${d.line}`);
    check(d.column === null || isInt(d.column), `bad column ${d.column}`);
    check(d.severity === 'error' || d.severity === 'warning', `bad severity ${d.severity}`);
    if (d.severity === 'error') errors++;
    else warnings++;
    out.push(line(d.file, d.line, d.column, d.severity, d.message, d.rule));
  }
  check(report.errors === errors, `errors is ${report.errors}, counted ${errors}`);
  check(report.warnings === warnings, `warnings is ${report.warnings}, counted ${warnings}`);
  out.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(report.files.length, 'file')}`);
  return out;
}

// The SARIF 2.1.0 properties mcpd writes, checked against what the standard requires
// (sarif-schema-2.1.0.json): version, runs[].tool.driver.name, result.message.text, 1-based
// regions, rule references that resolve.
function fromSarif(log) {
  check(log.version === '2.1.0', `version is ${log.version}`);
  check(typeof log.$schema === 'string' && log.$schema.includes('sarif'), 'no $schema');
  check(Array.isArray(log.runs) && log.runs.length === 1, 'expected exactly one run');
  const run = log.runs[0];
  const driver = run.tool && run.tool.driver;
  check(driver && typeof driver.name === 'string' && driver.name === 'mcpd', 'driver.name');
  check(typeof driver.version === 'string' && driver.version.length > 0, 'driver.version');
  if ('informationUri' in driver)
    check(/^[a-z][a-z0-9+.-]*:/.test(driver.informationUri), 'informationUri not absolute');
  const rules = driver.rules || [];
  const ids = new Set();
  for (const rule of rules) {
    check(typeof rule.id === 'string' && rule.id.length > 0, 'rule without id');
    check(!ids.has(rule.id), `rule ${rule.id} listed twice`);
    ids.add(rule.id);
    check(rule.shortDescription && typeof rule.shortDescription.text === 'string' &&
              rule.shortDescription.text.length > 0,
          `rule ${rule.id} without shortDescription.text`);
  }
  check(Array.isArray(run.results), 'results is not an array');
  const files = (run.artifacts || []).map((a) => decodeURI(a.location.uri));
  const out = [];
  let errors = 0;
  let warnings = 0;
  const fired = new Set();
  for (const r of run.results) {
    check(r.message && typeof r.message.text === 'string', 'result without message.text');
    check(r.level === 'error' || r.level === 'warning', `bad level ${r.level}`);
    if (r.ruleId !== undefined) {
      check(ids.has(r.ruleId), `ruleId ${r.ruleId} not in driver.rules`);
      fired.add(r.ruleId);
      if (r.ruleIndex !== undefined)
        check(rules[r.ruleIndex].id === r.ruleId, `ruleIndex ${r.ruleIndex} is not ${r.ruleId}`);
    }
    let file = '';
    let startLine = null;
    let startColumn = null;
    if (r.locations !== undefined) {
      check(Array.isArray(r.locations) && r.locations.length === 1, 'expected one location');
      const physical = r.locations[0].physicalLocation;
      check(physical && physical.artifactLocation &&
                typeof physical.artifactLocation.uri === 'string',
            'location without artifactLocation.uri');
      file = decodeURI(physical.artifactLocation.uri).replace(/^file:\/\//, '');
      if (physical.region !== undefined) {
        check(isInt(physical.region.startLine), 'region.startLine must be >= 1');
        startLine = physical.region.startLine;
        if (physical.region.startColumn !== undefined) {
          check(isInt(physical.region.startColumn), 'region.startColumn must be >= 1');
          startColumn = physical.region.startColumn;
        }
      }
    }
    if (r.level === 'error') errors++;
    else warnings++;
    out.push(line(file, startLine, startColumn, r.level, r.message.text, r.ruleId));
  }
  check(fired.size === ids.size, 'driver.rules lists rules that did not fire');
  out.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(files.length, 'file')}`);
  return out;
}

const [format, file] = process.argv.slice(2);
check(format === 'json' || format === 'sarif', 'usage: report_to_text.cjs json|sarif FILE');
let document;
try {
  document = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  fail(`not JSON: ${e.message}`);
}
const lines = format === 'json' ? fromJson(document) : fromSarif(document);
process.stdout.write(lines.join('\n') + '\n');
