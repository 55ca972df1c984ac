// The only file in proxy/config that touches the filesystem: reads one YAML
// file, or every .yaml/.yml file of a directory (not recursive, sorted by
// name so the resulting order, and therefore the config, is deterministic).

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue } from '../model/index.js';
import type { IstioResource } from './istio-resource.js';
import { parseIstioYaml, type ParseResult } from './parse-istio-yaml.js';

const YAML_FILE = /\.ya?ml$/i;

export async function loadIstioPath(path: string): Promise<ParseResult> {
  const resources: IstioResource[] = [];
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  let files: string[];
  try {
    const st = await stat(path);
    files = st.isDirectory()
      ? (await readdir(path)).filter((f) => YAML_FILE.test(f)).sort().map((f) => join(path, f))
      : [path];
  } catch (err) {
    issues.push({ file: path, resource: '(file)', path: '', reason: `cannot read: ${(err as Error).message}` });
    return { resources, issues, warnings };
  }
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      issues.push({ file, resource: '(file)', path: '', reason: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const r = parseIstioYaml(text, file);
    resources.push(...r.resources);
    issues.push(...r.issues);
    warnings.push(...r.warnings);
  }
  return { resources, issues, warnings };
}
