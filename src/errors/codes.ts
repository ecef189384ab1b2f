/**
 * Every error code aks-emu can report, in one table. docs/errors.md documents each one;
 * test/errors/codes.test.ts fails when the two disagree.
 */
export const ERROR_CODES = {
  AKS_EMU_MANIFEST_READ: { status: 400, summary: 'a manifest file or folder could not be read' },
  AKS_EMU_MANIFEST_TOO_LARGE: { status: 413, summary: 'a manifest file, or all of them together, is over the size limit' },
  AKS_EMU_MANIFEST_PARSE: { status: 400, summary: 'a manifest is not valid YAML or not a Kubernetes object' },
  AKS_EMU_MANIFEST_INVALID: { status: 422, summary: 'one or more objects are invalid (field errors, Kubernetes wording)' },
  AKS_EMU_CONFIG_INVALID: { status: 400, summary: 'the cluster configuration (aks-emu.yaml or options) is invalid' },
  AKS_EMU_USAGE: { status: 400, summary: 'a command-line flag or argument is wrong' },
  AKS_EMU_ADDRESS_IN_USE: { status: 500, summary: 'an emulated address:port could not be bound' },
  AKS_EMU_PLATFORM: { status: 500, summary: 'the platform cannot host the emulated addresses' },
  AKS_EMU_NOT_FOUND: { status: 404, summary: 'the named object does not exist' },
  AKS_EMU_SERVER_UNREACHABLE: { status: 503, summary: 'the admin API of a running emulator could not be reached' },
  AKS_EMU_API_REQUEST: { status: 400, summary: 'the admin API refused a request (a Kubernetes Status with its reason)' },
  AKS_EMU_STOPPED: { status: 503, summary: 'the cluster has been stopped' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
