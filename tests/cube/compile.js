#!/usr/bin/env node
// Compile a Cube data model folder (the output of `cockpit export-cube --out DIR`) with Cube's
// own schema compiler (@cubejs-backend/schema-compiler, 0.33 line) and exit non-zero with the
// compiler's errors. Usage: node tests/cube/compile.js DIR
//
// FileRepository reads DIR/model/**/*.yml like a Cube deployment does; prepareCompiler wires
// the YAML compiler, CubeValidator (the schema of cubes, measures, joins, pre_aggregations…),
// the cube evaluator and the join graph; compile() runs them all and rejects on any error.
'use strict';

const path = require('path');
const fs = require('fs');

let schemaCompiler;
let shared;
try {
  schemaCompiler = require('@cubejs-backend/schema-compiler');
  shared = require('@cubejs-backend/shared');
} catch (e) {
  console.error('cannot load @cubejs-backend/schema-compiler: run ' +
    '`(cd tests/cube && npm ci --ignore-scripts || npm install --ignore-scripts)` first\n' + e.message);
  process.exit(3);
}

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node tests/cube/compile.js DIR (a folder holding model/*.yml)');
    process.exit(2);
  }
  const root = path.resolve(dir);
  const modelDir = path.join(root, 'model');
  if (!fs.existsSync(modelDir)) {
    console.error(`${modelDir}: no model folder`);
    process.exit(2);
  }
  // FileRepository(path) lists process.cwd()/path recursively (.yml, .yaml, .js)
  const repo = new shared.FileRepository(path.relative(process.cwd(), modelDir));
  const files = await repo.dataSchemaFiles();
  if (files.length === 0) {
    console.error(`${modelDir}: no .yml files`);
    process.exit(1);
  }
  const { compiler, cubeEvaluator, joinGraph } = schemaCompiler.prepareCompiler(repo, {
    allowNodeRequire: false,
    standalone: true,
    adapter: 'postgres',
  });
  try {
    await compiler.compile();
  } catch (e) {
    console.error(e.messages || e.message || String(e));
    process.exit(1);
  }
  const cubes = cubeEvaluator.cubeNames();
  let preAggs = 0;
  for (const name of cubes) {
    preAggs += Object.keys(cubeEvaluator.preAggregationsForCube(name) || {}).length;
    // every declared join must resolve in the join graph
    const cube = cubeEvaluator.cubeFromPath(name);
    for (const target of Object.keys(cube.joins || {})) {
      joinGraph.buildJoin([name, target]);
    }
  }
  console.log(JSON.stringify({ files: files.length, cubes: cubes.length, pre_aggregations: preAggs }));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
