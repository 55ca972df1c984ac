// Renders a structured path (as zod reports it) in the dotted/bracketed form
// every ConfigIssue uses, e.g. ['spec','http',0,'route',1,'weight'] →
// `spec.http[0].route[1].weight`. Map keys that are not plain identifiers
// (header names, annotation keys with dots or slashes) are quoted so the path
// stays unambiguous: `metadata.annotations["meshlet.io/experiment-ttl"]`.

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      if (PLAIN_KEY.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** Joins a parent path and a child path already rendered by formatIssuePath. */
export function joinIssuePath(parent: string, child: string): string {
  if (parent === '') return child;
  if (child === '') return parent;
  return child.startsWith('[') ? parent + child : `${parent}.${child}`;
}
