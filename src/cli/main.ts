/**
 * `aks-emu`: a thin layer over the library and the admin API. Exit codes: 0 ok, 1 an
 * error aks-emu reports (bad manifests, bad flags, unreachable server), curl's own codes
 * for `aks-emu curl`.
 */
import { AksEmuError } from '../errors/index.js';
import { curl, curlHelp } from './commands/curl.js';
import { explain, explainHelp } from './commands/explain.js';
import { node, nodeHelp, pod, podHelp } from './commands/fault.js';
import { fault, faultHelp } from './commands/faults.js';
import { get, getHelp } from './commands/get.js';
import { kubeconfig, kubeconfigHelp } from './commands/kubeconfig.js';
import { logs, logsHelp } from './commands/logs.js';
import { role, roleHelp } from './commands/role.js';
import { trace, traceHelp } from './commands/trace.js';
import { up, upHelp } from './commands/up.js';
import { validate, validateHelp } from './commands/validate.js';

type Out = (line: string) => void;
type Command = (argv: string[], out: Out, write: (chunk: Buffer | string) => void) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  up: { run: up, help: upHelp },
  validate: { run: validate, help: validateHelp },
  get: { run: get, help: getHelp },
  curl: { run: curl, help: curlHelp },
  explain: { run: explain, help: explainHelp },
  node: { run: node, help: nodeHelp },
  pod: { run: pod, help: podHelp },
  fault: { run: fault, help: faultHelp },
  kubeconfig: { run: kubeconfig, help: kubeconfigHelp },
  logs: { run: logs, help: logsHelp },
  trace: { run: trace, help: traceHelp },
  // Hidden: what each container of the container runtime runs (compose.yaml).
  role: { run: role, help: roleHelp },
};

const HELP = `aks-emu: the AKS traffic path (Azure Load Balancer → NodePort → ClusterIP → pods) on your machine.

Usage: aks-emu COMMAND [flags]

Commands:
  up         run a cluster from manifests in the foreground
  validate   check manifests and report every error
  get        show services, pods, nodes, endpointslices, ingresses, load balancers, gateways, routes
  curl       send an HTTP request from inside the cluster (a pod's or node's address)
  explain    explain which Ingress rule or Gateway route a request takes, and why
  node       stop or start a node (fault injection)
  pod        force a pod ready or unready, or kill a process pod
  fault      add, list or remove faults at any hop (latency, resets, drains, 503s, ...)
  kubeconfig print or merge the kubectl context "aks-emu" of a running cluster
  logs       print a process pod's output (-f to follow, -p for the previous instance)
  trace      show the hops of recent connections and HTTP requests (-f to follow)

Run 'aks-emu COMMAND --help' for a command's flags.`;

export async function main(
  argv: string[],
  out: Out = (l) => process.stdout.write(`${l}\n`),
  err: Out = (l) => process.stderr.write(`${l}\n`),
  write: (chunk: Buffer | string) => void = (chunk) => process.stdout.write(chunk),
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(HELP);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === 'version') {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '{}')) as { version?: string };
    out(`aks-emu ${pkg.version ?? 'unknown'}`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`aks-emu: unknown command "${name}"\n\n${HELP}`);
    return 1;
  }
  try {
    return await command.run(rest, out, write);
  } catch (e) {
    if (e instanceof AksEmuError) {
      err(e.code === 'AKS_EMU_MANIFEST_INVALID' ? `error: ${e.message.split('\n').join('\nerror: ')}` : `error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`aks-emu: unexpected error: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
