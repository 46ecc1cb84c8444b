// Types of scripts/fuzz/worker.mjs for the front-end fuzz test (tests/compiler/language/fuzz.test.ts).
import type { Diagnostic } from "../../grammar/diagnostics.js";

/** What is wrong with a diagnostic that a user should never see (MIO5001, a span outside its file, ...), or undefined. */
export function badDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>): string | undefined;
