import type { Command } from 'commander';

/** `portmatrix matrix ...`: list, show, validate, import. Subcommands are added by the matrix layer. */
export function registerMatrixCommand(program: Command): Command {
  const matrix = program.command('matrix').description('list, show, validate and import port matrices');
  return matrix;
}
