#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a checkout works without a build step.
import { register } from "tsx/esm/api";
import { boundYoungGeneration } from "./young-generation.js";

boundYoungGeneration();
register();
await import("../src/cli.ts");
