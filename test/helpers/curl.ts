import { curl } from '../../src/cli/commands/curl.js';

/** Runs `aks-emu curl ARGS --server SERVER` in this process; returns its exit code and everything it printed. */
export async function runCurl(server: string, args: readonly string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await curl(
    [...args, '--server', server],
    (line) => (text += `${line}\n`),
    (chunk) => (text += String(chunk)),
  );
  return { code, text };
}
