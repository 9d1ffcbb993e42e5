#!/usr/bin/env node
// The `irsa` and `kubectl-irsa` executables (package.json bin): Node runs this TypeScript file
// directly (type stripping, Node >= 23.6), as it runs the operator.
import { main } from './main.ts';

await main(process.argv);
