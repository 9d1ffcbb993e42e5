// The AWS calls the operator can make, read from its source rather than listed by hand: every
// `XxxCommand` (and `paginateXxx`) imported from the IAM, STS and EKS SDK clients anywhere under
// src/. A call added to the code shows up here by itself; an import this scan cannot turn into
// calls (a namespace import, a waiter, the aggregated `IAM` client, another AWS client) fails it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One IAM action the code can cause, e.g. `iam:GetRole`, and the files that import it. */
export interface AwsCall {
  action: string;
  files: string[];
}

/** The SDK clients the operator uses, by package, with the IAM service prefix of their actions. */
export const SDK_CLIENTS: Readonly<Record<string, string>> = {
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-eks': 'eks',
};

/**
 * Credential providers that call AWS themselves, by package and export: the action each sends.
 * Another export of these packages fails the scan until it is added here.
 */
export const CREDENTIAL_PROVIDERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '@aws-sdk/credential-providers': { fromTemporaryCredentials: 'sts:AssumeRole' },
};

/**
 * Actions AWS authorizes besides the call itself: EKS checks that the caller may pass the role to
 * pods.eks.amazonaws.com when an association is created or given another role (EKS User Guide,
 * "Create a Pod Identity association").
 */
export const IMPLIED: Readonly<Record<string, readonly string[]>> = {
  'eks:CreatePodIdentityAssociation': ['iam:PassRole'],
  'eks:UpdatePodIdentityAssociation': ['iam:PassRole'],
};

/** Value imports that send no request themselves: clients and error classes. */
const SENDS_NOTHING = /(Client|Exception)$/;

export class UnderivableImportError extends Error {
  override readonly name = 'UnderivableImportError';
}

/** The action a value imported from an SDK client sends, undefined when it sends none. */
export function actionOfImport(service: string, imported: string, where: string): string | undefined {
  const command = /^(\w+)Command$/.exec(imported);
  if (command) return `${service}:${command[1] ?? ''}`;
  const paginator = /^paginate(\w+)$/.exec(imported);
  if (paginator) return `${service}:${paginator[1] ?? ''}`;
  if (SENDS_NOTHING.test(imported)) return undefined;
  throw new UnderivableImportError(
    `${where}: ${imported} from the ${service} client is neither a Command, a paginator, a client nor an exception: ` +
      'teach test/unit/iam/aws-calls.ts which calls it makes',
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The actions one file's imports cause. */
export function actionsInSource(fileName: string, text: string): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2024, true);
  const actions: string[] = [];
  const importedFrom = new Set<ts.Node>();
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const module = statement.moduleSpecifier.text;
    const providers = CREDENTIAL_PROVIDERS[module];
    if (providers) {
      importedFrom.add(statement.moduleSpecifier);
      for (const element of namedImports(statement, fileName, module)) {
        const action = providers[element];
        if (action === undefined)
          throw new UnderivableImportError(`${fileName}: ${element} from ${module}: teach test/unit/iam/aws-calls.ts which calls it makes`);
        actions.push(action);
      }
      continue;
    }
    if (!module.startsWith('@aws-sdk/client-')) continue;
    importedFrom.add(statement.moduleSpecifier);
    const service = SDK_CLIENTS[module];
    if (service === undefined)
      throw new UnderivableImportError(`${fileName}: imports ${module}, which the operator policy test does not cover`);
    for (const imported of namedImports(statement, fileName, module)) {
      const action = actionOfImport(service, imported, fileName);
      if (action !== undefined) actions.push(action);
    }
  }
  // Any other mention of an SDK client (a dynamic import, a re-export) escapes the scan.
  const visit = (node: ts.Node): void => {
    const sdk =
      ts.isStringLiteralLike(node) && (node.text.startsWith('@aws-sdk/client-') || Object.hasOwn(CREDENTIAL_PROVIDERS, node.text));
    if (sdk && !importedFrom.has(node)) {
      throw new UnderivableImportError(`${fileName}: ${node.text} is used other than by a static import`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return actions;
}

/** The names a static import takes by value from `module` (type-only imports excluded). */
function namedImports(statement: ts.ImportDeclaration, fileName: string, module: string): string[] {
  const clause = statement.importClause;
  if (!clause || clause.phaseModifier === ts.SyntaxKind.TypeKeyword) return [];
  const bindings = clause.namedBindings;
  if (clause.name || (bindings && ts.isNamespaceImport(bindings))) {
    throw new UnderivableImportError(`${fileName}: default or namespace import of ${module}: import each export by name`);
  }
  return (bindings?.elements ?? []).filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text);
}

/** Every action the code under `root` can cause, sorted, with where it comes from. */
export function awsCallsIn(root: string): AwsCall[] {
  const calls = new Map<string, Set<string>>();
  for (const path of sourceFiles(root)) {
    const where = relative(join(root, '..'), path);
    for (const action of actionsInSource(where, readFileSync(path, 'utf8'))) {
      for (const a of [action, ...(IMPLIED[action] ?? [])]) calls.set(a, (calls.get(a) ?? new Set()).add(where));
    }
  }
  return [...calls].map(([action, files]) => ({ action, files: [...files].sort() })).sort((a, b) => a.action.localeCompare(b.action));
}
